/**
 * Opening a client WebSocket: URL building (`http(s)` → `ws(s)`, token and query options),
 * `binaryType = "arraybuffer"`, and waiting for the socket to open. Browser-safe.
 *
 * @module
 */
import { RealtimeError } from "../protocol.ts";
import { whyNotConnected } from "./unreachable.ts";
import { memoryHost } from "./memory.ts";

/**
 * Options every client socket takes.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { type SocketOptions, wsConnect } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().websocket("/who", (socket, ctx) => {
 *   socket.send(new URL(ctx.request.url).searchParams.get("fal_jwt_token") ?? "nobody");
 *   socket.close();
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const options: SocketOptions = { path: "/who", token: "t0k3n" }; // goes in the query
 * await using ws = await wsConnect(url, options);
 * assert.equal(await ws.receive(), "t0k3n");
 * ```
 */
export interface SocketOptions {
  /** Path of the endpoint on the server. */
  path?: string;
  /** A token, sent as the `fal_jwt_token` query parameter (browsers cannot set headers). */
  token?: string;
  /** Extra headers for the upgrade request (Deno only; browsers cannot set them). */
  headers?: Record<string, string>;
  /**
   * An API key, sent as `Authorization: Key <key>` (Deno only: browsers cannot set headers on a
   * WebSocket, so they use a `token` from `POST /tokens`).
   */
  key?: string;
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * What the realtime clients use of their socket: a `WebSocket`, or a WebRTC DataChannel
 * presented as one (`transport: "webrtc"`).
 */
export interface RealtimeSocket {
  /** `WebSocket.CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  readonly readyState: number;
  /** Bytes sent but not yet on the wire. */
  readonly bufferedAmount: number;
  /** Called with each message: bytes (an `ArrayBuffer` or a view) or text. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Called once closed. */
  onclose: ((event: CloseEvent) => void) | null;
  /**
   * Send one message.
   *
   * @param data Text, or bytes over an `ArrayBuffer` (what the DOM's `WebSocket.send` accepts).
   */
  send(data: string | Uint8Array<ArrayBuffer>): void;
  /**
   * Close.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  close(code?: number, reason?: string): void;
  /**
   * Listen for messages.
   *
   * @param type `"message"`.
   * @param listener Called with each message.
   */
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  /**
   * Listen for the close.
   *
   * @param type `"close"`.
   * @param listener Called once closed.
   * @param options `once`.
   */
  addEventListener(
    type: "close",
    listener: (event: CloseEvent) => void,
    options?: { once?: boolean },
  ): void;
}

/**
 * Build an endpoint URL from a base URL, a path and query parameters.
 *
 * @param base `http(s)://` or `ws(s)://` base URL.
 * @param path The endpoint's path, joined to the base's.
 * @param socket Whether the URL is for a WebSocket (`ws(s)://`) or for fetch (`http(s)://`).
 * @param query Query parameters; `undefined` values are left out.
 * @returns The URL.
 */
export function endpointUrl(
  base: string | URL,
  path: string | undefined,
  socket: boolean,
  query: Record<string, string | number | undefined> = {},
): URL {
  const url = new URL(base);
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined) {
    throw new TypeError(`Expected an http(s):// or ws(s):// URL, got ${url.protocol}//`);
  }
  // Built as one string and parsed once: each URL setter re-serializes the whole URL, which
  // cost several µs per HTTP call.
  let pathname = url.pathname;
  if (path) pathname = pathname.replace(/\/$/, "") + (path.startsWith("/") ? path : `/${path}`);
  let search = url.search;
  const entries = Object.entries(query).filter(([, value]) => value !== undefined);
  if (entries.length > 0) {
    const params = new URLSearchParams(search);
    for (const [key, value] of entries) params.set(key, String(value));
    search = `?${params}`;
  }
  const protocol = socket ? scheme.socket : scheme.fetch;
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  return new URL(`${protocol}//${auth}${url.host}${pathname}${search}${url.hash}`);
}

/** The scheme pairs an endpoint URL may start with, by the base URL's protocol. */
const SCHEMES: Record<string, { socket: string; fetch: string }> = {
  "http:": { socket: "ws:", fetch: "http:" },
  "ws:": { socket: "ws:", fetch: "http:" },
  "https:": { socket: "wss:", fetch: "https:" },
  "wss:": { socket: "wss:", fetch: "https:" },
};

/**
 * Open a WebSocket and wait until it is open.
 *
 * @param url The `ws(s)://` URL.
 * @param options Headers and abort signal.
 * @param kind What is expected at the URL, for the error's words: `"realtime"`, `"WebSocket"`.
 * @returns The open socket, with `binaryType = "arraybuffer"`.
 * @throws {RealtimeError} `CONNECTION_CLOSED` when it closes before opening, naming the cause
 * ("no realtime endpoint at /nope (HTTP 404)", "connection refused: is the server running at
 * …?", a 401 or 403 with the server's `detail`).
 */
export function openSocket(
  url: URL,
  options: SocketOptions = {},
  kind = "WebSocket",
): Promise<WebSocket> {
  const headers = options.key
    ? { ...options.headers, authorization: `Key ${options.key}` }
    : options.headers;
  const memory = memoryHost(url);
  const socket = memory ? memory.socket(url, headers) : headers
    // Deno's WebSocket takes headers in a second argument; browsers never get here.
    ? new (WebSocket as unknown as new (
      url: URL,
      init: { headers: Record<string, string> },
    ) => WebSocket)(
      url,
      { headers },
    )
    : new WebSocket(url);
  socket.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    let settled = false;
    const settle = (error?: RealtimeError) => {
      if (settled) return;
      settled = true;
      socket.removeEventListener("open", onOpen);
      socket.removeEventListener("close", onClose);
      socket.removeEventListener("error", onError);
      options.signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve(socket);
    };
    const onOpen = () => settle();
    // Deno names a refused handshake's status here; browsers say nothing.
    const onError = (event: Event) => {
      failure = (event as ErrorEvent).message || undefined;
    };
    const onClose = (event: CloseEvent) => {
      const code = closeCode(event);
      const failed = (cause: string) =>
        settle(
          new RealtimeError("CONNECTION_CLOSED", `could not connect to ${redact(url)}: ${cause}`),
        );
      if (code !== 1006) return failed(`closed with code ${code}${reasonOf(event)}`);
      whyNotConnected(url, kind, { message: failure }, headers, options.signal).then(
        failed,
        () => failed(`closed with code ${code}`),
      );
    };
    const onAbort = () => {
      socket.close();
      settle(
        new RealtimeError("CONNECTION_CLOSED", "connecting was aborted", {
          cause: options.signal?.reason,
        }),
      );
    };
    socket.addEventListener("open", onOpen);
    socket.addEventListener("close", onClose);
    socket.addEventListener("error", onError);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort);
  });
}

function reasonOf(event: CloseEvent): string {
  return event.reason ? ` (${event.reason})` : "";
}

/**
 * Wait until a socket has closed.
 *
 * @param socket The socket.
 * @returns When it is closed.
 */
export function whenClosed(socket: RealtimeSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) =>
    socket.addEventListener("close", () => resolve(), { once: true })
  );
}

/**
 * The code a close event stands for: Deno reports a connection that ended without a close
 * frame as code 0, where browsers say 1006 (abnormal closure).
 *
 * @param event The close event.
 * @returns Its code, 1006 for an abnormal closure.
 */
export function closeCode(event: CloseEvent): number {
  return event.code || 1006;
}

function redact(url: URL): string {
  const copy = new URL(url);
  for (const key of ["fal_jwt_token", "token"]) {
    if (copy.searchParams.has(key)) copy.searchParams.set(key, "***");
  }
  return copy.href;
}
