/**
 * `@rally/rally/testing`: test an App without a port. {@link testClient} serves an App in
 * memory: HTTP and SSE requests go to `app.fetch`; WebSocket upgrades go through the same
 * routing, origin and auth checks and `maxSessions`, then the App's own realtime and raw
 * WebSocket sessions run on an in-memory socket pair with WebSocket semantics (message order,
 * close codes, `bufferedAmount`). Everything of the App runs as it does under `serve()`: only
 * the TCP connection is gone.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { testClient } from "@rally/rally/testing";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", { input: z.object({ prompt: z.string() }) }, (
 *   input,
 * ) => ({ output: input.prompt }));
 *
 * await using t = testClient(app);
 * await using conn = await t.realtime("/realtime");
 * conn.send({ prompt: "hi" });
 * assert.deepEqual(await conn.receive(), { output: "hi" });
 * ```
 *
 * @module
 */
import { App, runnerOf } from "../server/app.ts";
import { upgradeWith } from "../server/upgrade.ts";
import { client, type ClientOptions, type TypedClient } from "../client/typed.ts";
import { addMemoryHost } from "../client/memory.ts";
import type { RoutesOf } from "../route_types.ts";
import { type MemorySocket, socketPair } from "./socket_pair.ts";

/**
 * Options of {@link testClient}.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { testClient, type TestClientOptions } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, (_input, ctx) => ({
 *   auth: ctx.request.headers.get("authorization"),
 * }));
 * const options: TestClientOptions = { url: "http://api.rally.invalid", token: "secret" };
 * await using t = testClient(app, options);
 * assert.equal(t.url, "http://api.rally.invalid");
 * assert.deepEqual(await t.run("/"), { auth: "Bearer secret" });
 * ```
 */
export interface TestClientOptions extends ClientOptions {
  /**
   * The base URL the App is reached at (its host is served in memory while the test client is
   * open). Default: a host of its own, `http://test-N.rally.invalid`.
   */
  url?: string;
}

/**
 * An App served in memory: the typed client's methods (`run`, `stream`, `realtime`,
 * `connect`, `ws`), and a base URL {@link TestClient.url} at which rally's own client functions
 * (`run(t.url, ...)`, `realtime(t.url, ...)`, `wsConnect`, `stream`, `connect`) reach the App
 * with no port. `await using` closes it.
 *
 * @typeParam A The App's type.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { testClient, type TestClient } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * await using t: TestClient<typeof app> = testClient(app);
 * assert.deepEqual(await t.run("/"), { ok: true }); // typed: { ok: boolean }
 * const response = await t.fetch("/", { // a raw request, as fetch would send it
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: "{}",
 * });
 * assert.equal(response.status, 200);
 * assert.deepEqual(await response.json(), { ok: true });
 * ```
 */
export interface TestClient<A> extends TypedClient<RoutesOf<A>>, AsyncDisposable {
  /**
   * Send a request to the App (`app.fetch`), as `fetch` would: a path is resolved against
   * {@link TestClient.url}.
   *
   * @param input A path, a URL or a request.
   * @param init As for `fetch`.
   * @returns The App's response.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Open a WebSocket to a path of the App, in memory: an object that behaves as a client
   * `WebSocket` (connecting at first; `open`, `message`, `close` and `error` events).
   *
   * @param path The path, with its query if any.
   * @param headers Headers of the upgrade request (`Origin`, `Authorization`).
   * @returns The socket.
   */
  webSocket(path: string, headers?: Record<string, string>): WebSocket;
  /**
   * Cut every open socket as a lost connection would (1006 on both ends, no close frame); the
   * App goes on serving new connections: what a client's reconnect logic is tested with.
   *
   * @returns When every socket has closed.
   */
  disconnect(): Promise<void>;
  /**
   * Cut the sockets still open (as {@link TestClient.disconnect} does) and stop serving the
   * URL. The App itself keeps running: `app.drain()` stops it.
   *
   * @returns When every socket has closed.
   */
  close(): Promise<void>;
}

/**
 * What {@link testClient} needs of an App: its fetch handler.
 *
 * @example
 * ```ts
 * import { type FetchHandler, testClient } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * // Any fetch handler (a Hono app, a Deno.serve handler object) can be tested in memory too.
 * const handler: FetchHandler = { fetch: () => new Response("pong") };
 * await using t = testClient(handler);
 * assert.equal(await (await t.fetch("/ping")).text(), "pong");
 * ```
 */
export interface FetchHandler {
  /**
   * Answer a request.
   *
   * @param request The request.
   * @returns The response.
   */
  fetch(request: Request): Response | Promise<Response>;
}

let hosts = 0;

/**
 * Serve an App in memory and get a client for it: the same API as rally's client, typed from
 * the App, with no listening socket. The App runs its real code path: routing, auth, schemas,
 * buffering, batching, streaming modes, meta frames, limits and close codes.
 *
 * @typeParam A The App's type.
 * @param app The App (`setup()` runs on the first request, as under `deno serve`; an App that
 * was drained starts again, as under a new `serve()`), or any fetch handler.
 * @param options The base URL, and credentials and headers for every typed call.
 * @returns The test client.
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { run } from "@rally/rally/client";
 * import { testClient } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * await using t = testClient(app);
 * assert.deepEqual(await t.run("/"), { ok: true }); // typed
 * assert.deepEqual(await run(t.url, { path: "/" }), { ok: true }); // rally's client, in memory
 * assert.equal((await t.fetch("/health")).status, 200);
 * ```
 */
export function testClient<A extends FetchHandler>(
  app: A,
  options: TestClientOptions = {},
): TestClient<A> {
  // As serve() does, an App whose last run ended (drained) starts a new one.
  if (app instanceof App) runnerOf(app);
  const url = new URL(options.url ?? `http://test-${++hosts}.rally.invalid`);
  const base = url.href.replace(/\/$/, "");
  const sockets = new Set<MemorySocket>();
  const appFetch = (request: Request) => fetchIn(app, request);

  const webSocket = (target: URL, headers?: Record<string, string>): WebSocket => {
    const { client: end, server } = socketPair(target.href);
    sockets.add(end);
    end.closed.then(() => sockets.delete(end));
    connectPair(app, target, headers, end, server);
    return end as unknown as WebSocket;
  };

  const remove = addMemoryHost(url.host, { fetch: appFetch, socket: webSocket });
  const typed = client<A>(base, options);
  const disconnect = async () => {
    const open = [...sockets];
    for (const socket of open) socket.terminate();
    await Promise.all(open.flatMap((socket) => [socket.closed, socket.peer!.closed]));
  };
  const close = () => {
    remove();
    return disconnect();
  };
  return {
    ...typed,
    fetch: (input, init) =>
      appFetch(
        input instanceof Request
          ? new Request(input, init)
          : new Request(new URL(input, url), init),
      ),
    webSocket: (path, headers) => webSocket(socketUrl(new URL(path, url)), headers),
    disconnect,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * `app.fetch` as `fetch` behaves for its caller: aborting the request's signal rejects a
 * response still awaited, and errors a body still being read (cancelling the App's stream, as a
 * client that hangs up does).
 */
async function fetchIn(app: FetchHandler, request: Request): Promise<Response> {
  const signal = request.signal;
  signal.throwIfAborted();
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true })
  );
  aborted.catch(() => {});
  const response = await Promise.race([app.fetch(request), aborted]);
  if (!response.body) return response;
  const reader = response.body.getReader();
  let onAbort: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      onAbort = () => {
        controller.error(signal.reason);
        reader.cancel(signal.reason).catch(() => {});
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        signal.removeEventListener("abort", onAbort!);
        controller.close();
      } catch (error) {
        signal.removeEventListener("abort", onAbort!);
        controller.error(error);
      }
    },
    cancel(reason) {
      signal.removeEventListener("abort", onAbort!);
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The `ws(s)://` form of an `http(s)://` URL. */
function socketUrl(url: URL): URL {
  const copy = new URL(url);
  if (copy.protocol === "http:") copy.protocol = "ws:";
  if (copy.protocol === "https:") copy.protocol = "wss:";
  return copy;
}

/**
 * Send the upgrade request through the App; open both ends when it upgrades, or fail the
 * client's end as a refused handshake does (an error event, then close 1006).
 */
async function connectPair(
  app: FetchHandler,
  target: URL,
  headers: Record<string, string> | undefined,
  end: MemorySocket,
  server: MemorySocket,
): Promise<void> {
  const http = new URL(target);
  http.protocol = http.protocol === "wss:" ? "https:" : "http:";
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = new Request(http, {
    headers: {
      ...headers,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": key,
      "sec-websocket-version": "13",
    },
  });
  let upgraded: Response | undefined;
  upgradeWith(request, () => {
    // Deno's 101 cannot be made with `new Response()`: a 200 that says 101 stands in for it.
    upgraded = new Response(null, { status: 200 });
    Object.defineProperty(upgraded, "status", { value: 101 });
    return { socket: server as unknown as WebSocket, response: upgraded };
  });
  let response: Response;
  try {
    response = await app.fetch(request);
  } catch (error) {
    end.terminate(`failed to connect to WebSocket: ${error}`);
    return server.terminate();
  }
  if (upgraded === undefined || response.status !== 101) {
    await response.body?.cancel();
    end.terminate(`failed to connect to WebSocket: Invalid status code: ${response.status}`);
    return server.terminate();
  }
  server.open();
  if (end.readyState === end.CLOSED) return server.terminate(); // the client gave up meanwhile
  end.open();
}
