/**
 * `wsConnect()`: a raw WebSocket with an async `receive()`. Browser-safe.
 *
 * @module
 */
import { Inbox } from "../internal/inbox.ts";
import { CloseCode, type WebSocketMessage } from "../protocol.ts";
import { endpointUrl, openSocket, type SocketOptions, whenClosed } from "./socket.ts";

/**
 * A raw WebSocket connection. `await using` closes it at the end of the scope.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { wsConnect, type WsConnection } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().websocket("/echo", async (socket) => {
 *   for await (const message of socket) socket.send(message);
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const ws: WsConnection = await wsConnect(url, { path: "/echo" });
 * ws.send(new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await ws.receive(), new Uint8Array([1, 2, 3]));
 * await ws.close(1000, "done");
 * assert.equal(await ws.receive(), undefined);
 * ```
 */
export interface WsConnection extends AsyncIterable<WebSocketMessage>, AsyncDisposable {
  /**
   * Send text or bytes.
   *
   * @param data The message.
   */
  send(data: WebSocketMessage): void;
  /**
   * The next message.
   *
   * @returns The message, or `undefined` once the socket has closed.
   */
  receive(): Promise<WebSocketMessage | undefined>;
  /**
   * Close the socket.
   *
   * @param code Close code, default 1000.
   * @param reason Close reason.
   * @returns When the socket has closed.
   */
  close(code?: number, reason?: string): Promise<void>;
}

/**
 * Connect to a raw WebSocket endpoint.
 *
 * @param url The server's base URL, `http(s)://` or `ws(s)://`.
 * @param options Path (default `"/"`), token, headers.
 * @returns The open connection.
 * @throws {RealtimeError} `CONNECTION_CLOSED` when it cannot connect.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { wsConnect } from "@rally/rally/client";
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
export async function wsConnect(
  url: string | URL,
  options: SocketOptions = {},
): Promise<WsConnection> {
  const target = endpointUrl(url, options.path, true, { fal_jwt_token: options.token });
  const socket = await openSocket(target, options);
  const inbox = new Inbox<WebSocketMessage>();
  socket.addEventListener("message", (event) => {
    inbox.push(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  });
  socket.addEventListener("close", () => inbox.end());
  const close = (code: number = CloseCode.NORMAL, reason?: string): Promise<void> => {
    if (socket.readyState < WebSocket.CLOSING) socket.close(code, reason);
    return whenClosed(socket);
  };
  return {
    send(data) {
      // The DOM's `WebSocket.send` takes no view over shared memory: such a view (rare) is copied.
      socket.send(
        typeof data === "string" || data.buffer instanceof ArrayBuffer
          ? data as string | Uint8Array<ArrayBuffer>
          : data.slice(),
      );
    },
    receive: () => inbox.next(),
    close,
    [Symbol.asyncDispose]: () => close(),
    async *[Symbol.asyncIterator]() {
      for (let message = await inbox.next(); message !== undefined; message = await inbox.next()) {
        yield message;
      }
    },
  };
}
