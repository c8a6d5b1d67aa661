/**
 * The signaling socket's messages: msgpack binary frames (rally's and fal's current demos) or
 * JSON text frames (fal's first demos), answered in the format the client last used; and the
 * bounds on what a client can make the server send or hold: error replies wait while the socket
 * does not drain and collapse into one with a `count`, and a client that keeps sending bad
 * messages is closed with 1008.
 *
 * @module
 */
import type { Codec } from "../../codec.ts";
import { CloseCode } from "../../protocol.ts";

/**
 * The format of signaling messages.
 *
 * @example
 * ```ts
 * import { App, type SignalingFormat } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const signaling: SignalingFormat = "json"; // for fal's first demos; "msgpack" is the default
 * const app = new App()
 *   .realtime("/realtime", {}, (input) => input)
 *   .webrtc("/webrtc", { endpoint: "/realtime", signaling });
 * assert.ok(app.openapi().paths["/webrtc"]);
 * assert.throws(
 *   () => app.webrtc("/xml", { endpoint: "/realtime", signaling: "xml" as SignalingFormat }),
 *   TypeError,
 * );
 * ```
 */
export type SignalingFormat = "msgpack" | "json";

/** The largest signaling message read, in bytes (an SDP offer is a few KiB). */
export const MAX_SIGNALING_BYTES = 64 * 1024;
/** Bad messages a session may send before it is closed with 1008. */
export const MAX_BAD_MESSAGES = 32;
/** Above this many unsent bytes on the signaling socket, error replies wait and collapse. */
const HIGH_WATER_BYTES = 64 * 1024;
/** Error replies go out at most this often, in milliseconds; the ones between are counted. */
const ERROR_INTERVAL_MS = 100;

/** A decoded signaling message. */
export type SignalingMessage = Record<string, unknown> & { type: string };

/** One signaling socket's reading and writing. */
export class SignalingWire {
  /** The format replies use: the route's at first, then the client's. */
  format: SignalingFormat;
  #ws: WebSocket;
  #codec: Codec;
  #onAbuse: (code: number, reason: string) => void;
  #bad = 0;
  #heldErrors = 0;
  #lastError?: string;
  #lastErrorAt = -Infinity;
  #timer?: ReturnType<typeof setTimeout>;

  /**
   * Wrap a server signaling socket.
   *
   * @param ws The socket.
   * @param codec The App's msgpack codec.
   * @param format The format of `ready`.
   * @param onAbuse Called once the client has sent too many bad messages (code 1008).
   */
  constructor(
    ws: WebSocket,
    codec: Codec,
    format: SignalingFormat,
    onAbuse: (code: number, reason: string) => void,
  ) {
    this.#ws = ws;
    this.#codec = codec;
    this.format = format;
    this.#onAbuse = onAbuse;
  }

  /** How many bad messages the client has sent. */
  get badMessages(): number {
    return this.#bad;
  }

  /**
   * Read one frame.
   *
   * @param data The frame.
   * @returns The message, or `undefined` when it was bad (an error reply has been sent).
   */
  read(data: ArrayBuffer | string): SignalingMessage | undefined {
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (size > MAX_SIGNALING_BYTES) {
      return this.refuse(
        `a signaling message is at most ${MAX_SIGNALING_BYTES} bytes, got ${size}`,
      );
    }
    let message: unknown;
    try {
      message = typeof data === "string" ? JSON.parse(data) : this.#codec.decode(data);
    } catch (error) {
      return this.refuse(
        `Cannot decode signaling message: ${(error as Error).message} ` +
          "(send msgpack binary or JSON text frames)",
      );
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== "string") return this.refuse("a signaling message needs a string `type`");
    this.format = typeof data === "string" ? "json" : "msgpack";
    return message as SignalingMessage;
  }

  /**
   * Send a message in the current format (dropped once the socket is closing).
   *
   * @param message The message.
   */
  send(message: Record<string, unknown>): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(this.format === "json" ? JSON.stringify(message) : this.#codec.encode(message));
  }

  /**
   * Count a bad message and answer it with an error; past {@link MAX_BAD_MESSAGES}, close 1008.
   *
   * @param text What was wrong, and how to fix it.
   * @returns `undefined`, for `return wire.refuse(...)`.
   */
  refuse(text: string): undefined {
    this.#bad++;
    if (this.#bad > MAX_BAD_MESSAGES) {
      this.#flush();
      this.#onAbuse(CloseCode.POLICY, "too many bad signaling messages");
      return undefined;
    }
    this.error(text);
    return undefined;
  }

  /**
   * Send `{type: "error", error}`: at once when the socket drains and none went out in the last
   * 100 ms; otherwise held, and the next one carries `count`, the number of errors it stands for.
   *
   * @param text The error.
   */
  error(text: string): void {
    this.#heldErrors++;
    this.#lastError = text;
    this.#tryFlush();
  }

  /** Stop the held errors' timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tryFlush(): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return void (this.#heldErrors = 0);
    const waited = performance.now() - this.#lastErrorAt;
    if (this.#ws.bufferedAmount <= HIGH_WATER_BYTES && waited >= ERROR_INTERVAL_MS) {
      return this.#flush();
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#heldErrors > 0) this.#tryFlush();
    }, ERROR_INTERVAL_MS);
  }

  #flush(): void {
    if (this.#heldErrors === 0) return;
    const count = this.#heldErrors;
    this.#heldErrors = 0;
    this.#lastErrorAt = performance.now();
    this.send(
      count > 1 ? { type: "error", error: this.#lastError, count } : {
        type: "error",
        error: this.#lastError,
      },
    );
  }
}
