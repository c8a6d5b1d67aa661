/**
 * `realtime()`: the script form of rally's realtime client. One connection carries many inputs
 * and their outputs; `recv()` and async iteration read outputs in order, and error frames
 * reject them in their place. Browser-safe.
 *
 * @module
 */
import { Codec, decodeText } from "../codec.ts";
import { Inbox } from "../inbox.ts";
import { CloseCode, END_OF_INPUT, parseControlFrame, RealtimeError } from "../protocol.ts";
import { closeCode, endpointUrl, openSocket, type SocketOptions, whenClosed } from "./socket.ts";

/** Options of {@link realtime}. */
export interface RealtimeOptions extends SocketOptions {
  /** Path of the realtime endpoint. Default `"/realtime"`. */
  path?: string;
  /** Ask the server to keep at most this many pending inputs (query `max_buffering`, 1..60). */
  maxBuffering?: number;
}

/** A realtime connection (script form). `await using` closes it at the end of the scope. */
export interface RealtimeConnection<I = Record<string, unknown>, O = Record<string, unknown>>
  extends AsyncIterable<O>, AsyncDisposable {
  /**
   * Send one input (msgpack, one binary frame).
   *
   * @param input The input.
   * @throws {RealtimeError} `CONNECTION_CLOSED` once the connection has closed.
   */
  send(input: I): void;
  /**
   * The next output, in the order inputs were sent.
   *
   * @returns The output, or `undefined` once the session has ended normally (`TIMEOUT`, 1000).
   * @throws {RealtimeError} for an error frame (the connection stays usable), or
   * `SHUTTING_DOWN` / `CONNECTION_CLOSED` when the connection was lost.
   */
  recv(): Promise<O | undefined>;
  /** Send end-of-input (for client-streaming and bidi endpoints). */
  end(): void;
  /**
   * Close the connection.
   *
   * @returns When the socket has closed.
   */
  close(): Promise<void>;
}

const codec = new Codec();

/**
 * Connect to a realtime endpoint.
 *
 * @param url The server's base URL, `http(s)://` or `ws(s)://`.
 * @param options Path, token, buffering wish.
 * @returns The open connection.
 * @throws {RealtimeError} `CONNECTION_CLOSED` when it cannot connect.
 * @example
 * ```ts
 * import { realtime } from "@rally/rally/client";
 *
 * await using conn = await realtime("http://127.0.0.1:8000", { path: "/realtime" });
 * conn.send({ prompt: "Hello, world!" });
 * console.log(await conn.recv()); // { output: "Hello, world!" }
 * ```
 */
export async function realtime<I = Record<string, unknown>, O = Record<string, unknown>>(
  url: string | URL,
  options: RealtimeOptions = {},
): Promise<RealtimeConnection<I, O>> {
  const target = endpointUrl(url, options.path ?? "/realtime", true, {
    fal_jwt_token: options.token,
    max_buffering: options.maxBuffering,
  });
  return new Connection<I, O>(await openSocket(target, options));
}

class Connection<I, O> implements RealtimeConnection<I, O> {
  #socket: WebSocket;
  #inbox = new Inbox<O>();

  constructor(socket: WebSocket) {
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
    this.#open().send(codec.encodeShared(input));
  }

  recv(): Promise<O | undefined> {
    return this.#inbox.next();
  }

  end(): void {
    this.#open().send(END_OF_INPUT);
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
    for (let output = await this.recv(); output !== undefined; output = await this.recv()) {
      yield output;
    }
  }

  #open(): WebSocket {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      throw new RealtimeError("CONNECTION_CLOSED", "the connection is closed");
    }
    return this.#socket;
  }

  #receive(data: ArrayBuffer | string): void {
    try {
      if (typeof data !== "string") return this.#inbox.push(codec.decode(data) as O);
      const control = parseControlFrame(data);
      if (!control) return this.#inbox.push(decodeText(data) as O);
      if (control.type === "x-fal-message" || control.error === "TIMEOUT") return;
      const { error, reason, issues, retryable, unprocessed } = control;
      this.#inbox.pushError(new RealtimeError(error, reason, { issues, retryable, unprocessed }));
    } catch (error) {
      this.#inbox.pushError(error);
    }
  }
}
