/**
 * Raw WebSocket endpoints: rally upgrades, then the handler owns the session and rally sends
 * nothing itself. The handler returning closes the socket with 1000; throwing, with 1011.
 *
 * @module
 */
import { Inbox } from "../internal/inbox.ts";
import { CloseCode, RealtimeError, type WebSocketMessage } from "../protocol.ts";
import { CLOSE_WAIT_MS, closedWithin, within } from "../internal/within.ts";
import { type Context, createContext, type Host } from "./context.ts";
import type { SessionStats } from "./middleware/stats.ts";
import type { WebSocketRoute } from "./routes.ts";
import { upgrade } from "./upgrade.ts";

/**
 * Options of a raw WebSocket endpoint.
 *
 * @example
 * ```ts
 * import { App, serve, type WebSocketOptions, wsConnect } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const options: WebSocketOptions = { maxMessageBytes: 1024 };
 * const app = new App().websocket("/small", options, async (socket) => {
 *   for await (const message of socket) socket.send(message);
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using ws = await wsConnect(url, { path: "/small" });
 * ws.send(new Uint8Array(2048)); // over the limit: the server closes with 1009
 * assert.equal(await ws.receive(), undefined);
 * ```
 */
export interface WebSocketOptions {
  /** Largest frame accepted, in bytes; a larger one closes the socket with 1009. Default: the App's. */
  maxMessageBytes?: number;
  /** Most unread bytes held for the handler; past it the socket closes with 1008. Default 64 MiB. */
  maxPendingBytes?: number;
}

/**
 * A raw WebSocket endpoint's handler.
 *
 * @example
 * ```ts
 * import { App, serve, type WebSocketHandler, wsConnect } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const shout: WebSocketHandler = async (socket) => {
 *   for await (const message of socket) {
 *     socket.send(typeof message === "string" ? message.toUpperCase() : message);
 *   }
 * };
 * const app = new App().websocket("/shout", shout);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using ws = await wsConnect(url, { path: "/shout" });
 * ws.send("hey");
 * assert.equal(await ws.receive(), "HEY");
 * ```
 */
export type WebSocketHandler = (socket: WebSocketSession, ctx: Context) => void | Promise<void>;

/**
 * The session a raw WebSocket handler owns: receive messages (one at a time or by async
 * iteration), send, close. `signal` aborts when the peer disconnects or the server stops.
 *
 * @example
 * ```ts
 * import { App, serve, wsConnect } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const app = new App().websocket("/echo", async (socket) => {
 *   const msg = await socket.receiveText();
 *   for (let idx = 0; idx < 3; idx++) socket.send(`${msg}-${idx}`);
 *   socket.close();
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using ws = await wsConnect(url, { path: "/echo" });
 * ws.send("Hello, world!");
 * const messages = [];
 * for await (const message of ws) messages.push(message);
 * assert.deepEqual(messages, ["Hello, world!-0", "Hello, world!-1", "Hello, world!-2"]);
 * ```
 */
export class WebSocketSession implements AsyncIterable<WebSocketMessage> {
  /** Aborts when the peer disconnects or the server shuts down. */
  readonly signal: AbortSignal;
  #socket: WebSocket;
  #inbox = new Inbox<WebSocketMessage>();
  #unreadBytes = 0;
  #limits: WebSocketRoute;

  /**
   * Wrap an upgraded socket (rally does this for `app.websocket` handlers).
   *
   * @param socket An upgraded socket.
   * @param limits Frame and unread-bytes caps.
   * @param signal Aborts when the session ends.
   */
  constructor(socket: WebSocket, limits: WebSocketRoute, signal: AbortSignal) {
    this.#socket = socket;
    this.#limits = limits;
    this.signal = signal;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", () => {
      this.#inbox.end(new RealtimeError("CONNECTION_CLOSED", "the connection closed"));
    });
  }

  /**
   * The next message.
   *
   * @returns Text as a string, binary as a `Uint8Array`, or `undefined` once the socket closed.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/kind", async (socket) => {
   *   const message = await socket.receive();
   *   if (message === undefined) return; // closed
   *   socket.send(typeof message === "string" ? "text" : "bytes");
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/kind" });
   * ws.send(new Uint8Array([1]));
   * assert.equal(await ws.receive(), "bytes");
   * ```
   */
  async receive(): Promise<WebSocketMessage | undefined> {
    try {
      return await this.#next();
    } catch (error) {
      if (error instanceof RealtimeError) return undefined;
      throw error;
    }
  }

  /**
   * The next message, which must be text.
   *
   * @returns The text.
   * @throws {TypeError} when the message is binary.
   * @throws {RealtimeError} `CONNECTION_CLOSED` when the socket closed.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/say", async (socket) => {
   *   socket.send(`you said ${await socket.receiveText()}`);
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/say" });
   * ws.send("hi");
   * assert.equal(await ws.receive(), "you said hi");
   * ```
   */
  async receiveText(): Promise<string> {
    const message = await this.#next();
    if (typeof message !== "string") throw new TypeError("Expected a text message, got binary");
    return message;
  }

  /**
   * The next message, which must be binary.
   *
   * @returns The bytes.
   * @throws {TypeError} when the message is text.
   * @throws {RealtimeError} `CONNECTION_CLOSED` when the socket closed.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/reverse", async (socket) => {
   *   const bytes = await socket.receiveBytes();
   *   socket.send(bytes.reverse());
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/reverse" });
   * ws.send(new Uint8Array([1, 2, 3]));
   * assert.deepEqual(await ws.receive(), new Uint8Array([3, 2, 1]));
   * ```
   */
  async receiveBytes(): Promise<Uint8Array> {
    const message = await this.#next();
    if (typeof message === "string") throw new TypeError("Expected a binary message, got text");
    return message;
  }

  /**
   * Send a message; nothing happens once the socket is closed.
   *
   * @param data Text, or bytes for a binary frame.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/greet", (socket) => {
   *   socket.send("hello");
   *   socket.send(new Uint8Array([1, 2, 3]));
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/greet" });
   * assert.equal(await ws.receive(), "hello");
   * assert.deepEqual(await ws.receive(), new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: WebSocketMessage): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(data);
  }

  /**
   * Close the socket.
   *
   * @param code Close code, default 1000.
   * @param reason Close reason.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/bye", (socket) => socket.close(1000, "done"));
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/bye" });
   * assert.equal(await ws.receive(), undefined); // closed by the server
   * ```
   */
  close(code: number = CloseCode.NORMAL, reason?: string): void {
    if (this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(code, reason);
  }

  /**
   * Iterate over messages until the socket closes.
   *
   * @returns An async iterator of messages.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/echo", async (socket) => {
   *   for await (const message of socket) socket.send(message); // until the peer closes
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   *
   * await using ws = await wsConnect(url, { path: "/echo" });
   * ws.send("a");
   * assert.equal(await ws.receive(), "a");
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (
      let message = await this.receive();
      message !== undefined;
      message = await this.receive()
    ) {
      yield message;
    }
  }

  async #next(): Promise<WebSocketMessage> {
    const message = (await this.#inbox.next())!;
    this.#unreadBytes -= size(message);
    return message;
  }

  #receive(data: ArrayBuffer | string): void {
    const message = typeof data === "string" ? data : new Uint8Array(data);
    const bytes = size(message);
    if (bytes > this.#limits.maxMessageBytes) {
      this.close(
        1009,
        `message of ${bytes} bytes is over the limit of ${this.#limits.maxMessageBytes}`,
      );
    } else if (this.#unreadBytes + bytes > this.#limits.maxPendingBytes) {
      this.close(CloseCode.POLICY, "too many unread messages");
    } else {
      this.#unreadBytes += bytes;
      this.#inbox.push(message);
    }
  }
}

/**
 * Upgrade a request and run a raw WebSocket handler on it once the socket opens.
 *
 * @param route The endpoint.
 * @param request The upgrade request (checked to have `Upgrade: websocket`).
 * @param host The App serving it.
 * @returns The 101 response.
 */
export function acceptWebSocket(route: WebSocketRoute, request: Request, host: Host): Response {
  // Made before the upgrade, which closes the request: the context reads its headers now.
  const abort = new AbortController();
  const ctx = createContext(request, abort.signal);
  const { socket, response, spoke } = upgrade(request, {
    firstMessageTimeout: host.firstMessageTimeout,
    kind: "websocket",
  });
  const session = new CountedSession(
    socket,
    route,
    abort.signal,
    host.sessionStats("websocket", ctx, socket),
    spoke,
  );
  let done: Promise<void> | undefined;
  const forget = host.track({
    async shutdown(graceMs: number) {
      if (done) await within(done, graceMs);
      const closed = closedWithin(socket, CLOSE_WAIT_MS);
      abort.abort();
      session.close(CloseCode.GOING_AWAY, "server is shutting down");
      // Finish the closing handshake (the handler's own close too) before the HTTP server
      // stops: Deno.HttpServer.shutdown() cuts sockets still closing with 1001.
      await closed;
    },
  });
  socket.addEventListener("open", () => {
    done = (async () => {
      try {
        await route.handler(session, ctx);
        session.close();
      } catch (error) {
        host.reportError(error, ctx);
        session.close(CloseCode.INTERNAL, "the handler failed");
      }
    })();
  });
  socket.addEventListener("close", () => {
    abort.abort();
    forget();
  });
  return response;
}

/** The session rally hands raw WebSocket handlers: it counts messages for logs and metrics. */
class CountedSession extends WebSocketSession {
  #stats: SessionStats;

  #spoke: () => void;

  constructor(
    socket: WebSocket,
    limits: WebSocketRoute,
    signal: AbortSignal,
    stats: SessionStats,
    spoke: () => void,
  ) {
    super(socket, limits, signal);
    this.#stats = stats;
    this.#spoke = spoke;
    socket.addEventListener("message", () => stats.messagesIn++);
  }

  override send(data: WebSocketMessage): void {
    if (!this.signal.aborted) this.#stats.messagesOut++;
    this.#spoke(); // a handler that speaks first is using the socket: no first-message timeout
    super.send(data);
  }
}

function size(message: WebSocketMessage): number {
  return typeof message === "string" ? message.length : message.byteLength;
}
