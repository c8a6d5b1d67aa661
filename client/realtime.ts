/**
 * `realtime()`: the script form of rally's realtime client. One connection carries many inputs
 * and their outputs; `receive()` and async iteration read outputs in order, and error frames
 * reject them in their place. Browser-safe.
 *
 * @module
 */
import { Inbox } from "../internal/inbox.ts";
import { CloseCode, END_OF_INPUT, RealtimeError } from "../protocol.ts";
import { encodeInput, helloLimit, readFrame, type ServerFrame } from "./frames.ts";
import {
  closeCode,
  endpointUrl,
  openSocket,
  type RealtimeSocket,
  type SocketOptions,
  whenClosed,
} from "./socket.ts";
import { openDataChannel, type TransportOptions } from "./webrtc.ts";

/**
 * Options of {@link realtime}.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { realtime, type RealtimeClientOptions } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/live", { buffering: 8 }, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const options: RealtimeClientOptions = { path: "/live", maxBuffering: 2 }; // query max_buffering
 * await using conn = await realtime(url, options);
 * conn.send({ n: 1 });
 * assert.deepEqual(await conn.receive(), { n: 1 });
 * ```
 */
export interface RealtimeClientOptions extends SocketOptions, TransportOptions {
  /** Path of the realtime endpoint (`transport: "webrtc"`: of the signaling endpoint). Default
   * `"/realtime"` (`"/webrtc"`). */
  path?: string;
  /** Ask the server to keep at most this many pending inputs (query `max_buffering`, 1..60). */
  maxBuffering?: number;
}

/**
 * A realtime connection (script form). `await using` closes it at the end of the scope.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { realtime, type RealtimeConnection } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", { sessionTimeout: 0.1 }, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn: RealtimeConnection<{ n: number }, { n: number }> = await realtime(url);
 * for (let n = 0; n < 3; n++) conn.send({ n });
 * await conn.drained();
 * const outputs = [];
 * for await (const output of conn) outputs.push(output.n); // ends at TIMEOUT
 * assert.deepEqual(outputs, [0, 1, 2]);
 * ```
 */
export interface RealtimeConnection<I = Record<string, unknown>, O = Record<string, unknown>>
  extends AsyncIterable<O>, AsyncDisposable {
  /**
   * Send one input (msgpack, one binary frame).
   *
   * @param input The input.
   * @throws {RealtimeError} `CONNECTION_CLOSED` once the connection has closed;
   * `MESSAGE_TOO_LARGE` when the input is over the limit the server announced in `hello`.
   */
  send(input: I): void;
  /**
   * The next output, in the order inputs were sent.
   *
   * @returns The output, or `undefined` once the session has ended normally (`TIMEOUT`, 1000).
   * @throws {RealtimeError} for an error frame (the connection stays usable), or
   * `SHUTTING_DOWN` / `CONNECTION_CLOSED` when the connection was lost.
   */
  receive(): Promise<O | undefined>;
  /** Send end-of-input (for client-streaming and bidi endpoints). */
  end(): void;
  /**
   * Wait until the socket has sent what it buffered (its `bufferedAmount` is under 64 KiB):
   * pace a producer that sends faster than the network takes.
   *
   * @returns When the buffer is low, or the socket has closed.
   */
  drained(): Promise<void>;
  /**
   * Close the connection.
   *
   * @returns When the socket has closed.
   */
  close(): Promise<void>;
}

/**
 * Connect to a realtime endpoint.
 *
 * @param url The server's base URL, `http(s)://` or `ws(s)://`.
 * @param options Path, token, buffering wish.
 * @returns The open connection.
 * @throws {RealtimeError} `CONNECTION_CLOSED` when it cannot connect.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { realtime } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn = await realtime(url, { path: "/realtime" });
 * conn.send({ prompt: "Hello, world!" });
 * assert.deepEqual(await conn.receive(), { prompt: "Hello, world!" });
 * ```
 */
export async function realtime<I = Record<string, unknown>, O = Record<string, unknown>>(
  url: string | URL,
  options: RealtimeClientOptions = {},
): Promise<RealtimeConnection<I, O>> {
  const webrtc = options.transport === "webrtc";
  const target = endpointUrl(url, options.path ?? (webrtc ? "/webrtc" : "/realtime"), true, {
    fal_jwt_token: options.token,
    max_buffering: options.maxBuffering,
  });
  return new Connection<I, O>(
    webrtc ? await openDataChannel(target, options) : await openSocket(target, options, "realtime"),
  );
}

/** Below this many unsent bytes, `drained()` resolves. */
const LOW_WATER_MARK = 64 * 1024;
/** How often `drained()` looks at the socket, in milliseconds. */
const DRAIN_POLL_MS = 4;

class Connection<I, O> implements RealtimeConnection<I, O> {
  #socket: RealtimeSocket;
  #inbox = new Inbox<O>();
  #maxBytes = Infinity;

  constructor(socket: RealtimeSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", (event) => {
      this.#inbox.end(
        event.code === CloseCode.NORMAL ? undefined : new RealtimeError(
          "CONNECTION_CLOSED",
          `the connection closed with code ${closeCode(event)}${
            event.reason ? ` (${event.reason})` : ""
          }`,
        ),
      );
    });
  }

  send(input: I): void {
    const socket = this.#open();
    socket.send(encodeInput(input, this.#maxBytes));
  }

  receive(): Promise<O | undefined> {
    return this.#inbox.next();
  }

  end(): void {
    this.#open().send(END_OF_INPUT);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => {
      const poll = () => {
        const socket = this.#socket;
        if (socket.readyState !== WebSocket.OPEN || socket.bufferedAmount < LOW_WATER_MARK) {
          resolve();
        } else setTimeout(poll, DRAIN_POLL_MS);
      };
      poll();
    });
  }

  close(): Promise<void> {
    this.#inbox.end();
    if (this.#socket.readyState < WebSocket.CLOSING) this.#socket.close(CloseCode.NORMAL);
    return whenClosed(this.#socket);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<O> {
    for (let output = await this.receive(); output !== undefined; output = await this.receive()) {
      yield output;
    }
  }

  #open(): RealtimeSocket {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      throw new RealtimeError("CONNECTION_CLOSED", "the connection is closed");
    }
    return this.#socket;
  }

  #receive(data: ArrayBuffer | Uint8Array | string): void {
    let frame: ServerFrame;
    try {
      frame = readFrame(data);
    } catch (error) {
      return this.#inbox.pushError(error);
    }
    if (frame.kind === "output") this.#inbox.push(frame.value as O);
    else if (frame.kind === "meta") this.#maxBytes = helloLimit(frame.meta) ?? this.#maxBytes;
    else if (frame.error.closing === true) {
      // The server closes with 1008 after this frame (the close itself can be lost while this
      // side is still sending): the connection is over now, as it would be at the close.
      this.#inbox.end(
        new RealtimeError(
          "CONNECTION_CLOSED",
          `the connection closed with code ${CloseCode.POLICY} (${frame.error.code}: ${frame.error.reason})`,
          { cause: frame.error },
        ),
      );
      this.#socket.close(CloseCode.NORMAL);
    } else if (frame.error.code !== "TIMEOUT") this.#inbox.pushError(frame.error);
  }
}
