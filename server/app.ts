/**
 * The App: a route table of HTTP, SSE, realtime and raw WebSocket endpoints (and plain GET
 * routes for a front end), filled by the builder methods or by the class form's decorators; its
 * options and lifecycle hooks; and `app.fetch`, which serves it (under rally's `serve()`,
 * `deno serve`, or any host that calls a fetch handler).
 *
 * @module
 */
import { VERSION } from "../protocol.ts";
import { APP_BRAND, type AppBrand } from "./brand.ts";
import type { Context } from "./context.ts";
import {
  type EndpointDecorator,
  endpointDecorator,
  type GetDecorator,
  getDecorator,
  type RealtimeDecorator,
  realtimeDecorator,
  type StreamDecorator,
  streamDecorator,
  type WebSocketDecorator,
  websocketDecorator,
} from "./decorators.ts";
import type { GetHandler } from "./get.ts";
import type { EndpointHandler, EndpointOptions } from "./http.ts";
import { type OpenApiDocument, openApiDocument } from "./openapi.ts";
import { type AppFields, type AppOptions, checkMessageBytes } from "./options.ts";
import {
  DEFAULT_MAX_PENDING_BYTES,
  type RealtimeEndpointOptions,
  type RealtimeHandler,
  type RealtimeMode,
  realtimeRoute,
} from "./realtime.ts";
import { OWN_PATHS } from "./response.ts";
import type { EndpointRoute, RealtimeRoute, Route, StreamRoute } from "./routes.ts";
import type { EndpointAdded, RealtimeAdded, StreamAdded, WebSocketAdded } from "./route_typing.ts";
import type { RouteTypes } from "../route_types.ts";
import { setRunStarter } from "./run.ts";
import { Runner } from "./runner.ts";
import { serve } from "./serve.ts";
import type { Schema } from "./schema.ts";
import type { StreamEndpointOptions, StreamHandler } from "./stream.ts";
import type { WebSocketHandler, WebSocketOptions } from "./websocket.ts";
import { type WebRtcOptions, webrtcRoute } from "./webrtc/signaling.ts";

export { runnerOf } from "./run.ts";

/**
 * The App's options as its public properties: declared once, in {@link AppOptions}, and merged
 * into the class, so a subclass sets them as fields (`override keepAlive = 60`).
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * class Tuned extends App {
 *   override keepAlive = 60; // an option, set as a field
 *   override maxConcurrency = 2;
 * }
 * const app = new Tuned();
 * assert.equal(app.keepAlive, 60);
 * assert.equal(new App({ keepAlive: 60 }).keepAlive, 60); // or passed to the constructor
 * ```
 */
export interface App<Routes extends RouteTypes = Record<never, never>> extends AppFields {}

/**
 * A rally app: endpoints registered with the builder methods or, in a subclass, with the
 * decorators `@App.endpoint`, `@App.realtime`, `@App.websocket`, `@App.stream` and `@App.get`;
 * served by {@link App.fetch}.
 *
 * @example Builder
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const Output = z.object({ output: z.string() });
 *
 * const app = new App({ name: "echo" })
 *   .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
 *   .realtime("/realtime", { input: Input, output: Output }, (input) => ({
 *     output: input.prompt,
 *   }))
 *   .websocket("/echo", async (socket) => {
 *     socket.send(`echo: ${await socket.receiveText()}`);
 *   });
 * // `export default app`: then `deno serve` this module, or `rally serve` it.
 *
 * const post = (path: string, body: unknown) =>
 *   app.fetch(
 *     new Request(`http://localhost${path}`, {
 *       method: "POST",
 *       body: JSON.stringify(body),
 *       headers: { "content-type": "application/json" },
 *     }),
 *   );
 * assert.deepEqual(await (await post("/", { prompt: "hi" })).json(), { output: "hi" });
 * ```
 *
 * @example Class form
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 *
 * class EchoApp extends App {
 *   override keepAlive = 300; // options are fields too
 *
 *   @App.endpoint("/", { input: Input })
 *   generate(input: z.infer<typeof Input>) {
 *     return { output: input.prompt };
 *   }
 * }
 *
 * const app = new EchoApp(); // `export default` it to serve it
 * assert.equal(app.name, "echo-app");
 * const post = (path: string, body: unknown) =>
 *   app.fetch(
 *     new Request(`http://localhost${path}`, {
 *       method: "POST",
 *       body: JSON.stringify(body),
 *       headers: { "content-type": "application/json" },
 *     }),
 *   );
 * assert.deepEqual(await (await post("/", { prompt: "hi" })).json(), { output: "hi" });
 * ```
 *
 * @typeParam Routes The routes' types as a client sees them: the builder methods add to them
 * (`typeof app` carries them); a subclass declares them (`extends App<{ ... }>`).
 */
export class App<Routes extends RouteTypes = Record<never, never>> {
  /** The route types (for `client<typeof app>`; type-level only: never set at run time). */
  declare readonly "~routes"?: Routes;
  /** The app's name (fal's app name). Default: a subclass's name in kebab case, else `"rally"`. */
  name: string;
  #routes: Route[] = [];
  #runner?: Runner;

  static {
    setRunStarter((app) => {
      if (!app.#runner || app.#runner.ended) app.#runner = new Runner(app, app.#routes);
      return app.#runner;
    });
    // Any copy of rally's CLI knows an App by this brand and serves it with this copy.
    const brand: AppBrand = {
      version: VERSION,
      serve: (app, options) => serve(app as App, options),
      routes: (app) => (app as App).#routes.map(({ kind, path }) => ({ kind, path })),
    };
    Object.defineProperty(App.prototype, APP_BRAND, { value: brand });
  }

  /**
   * Make an app; add routes with the builder methods, or subclass it and decorate methods.
   *
   * @param options The app's options (a subclass's fields win over them).
   */
  constructor(options: AppOptions = {}) {
    const { name, onError, setup, teardown, ...fields } = options;
    this.name = name ?? defaultName(new.target);
    Object.assign(this, fields);
    if (onError) this.onError = onError;
    if (setup) this.setup = setup;
    if (teardown) this.teardown = teardown;
  }

  /**
   * Runs before the App takes work: at `serve()`, or on the first request under `deno serve`
   * (`/health` answers 503 until it has finished; other requests wait for it). Override it (or
   * pass the `setup` option) to load a model. If it throws, every request gets 503.
   *
   * @returns Nothing, or a promise of nothing.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * class ModelApp extends App {
   *   weights?: Uint8Array;
   *   override async setup() {
   *     this.weights = await Promise.resolve(new Uint8Array(16)); // e.g. Deno.readFile("model.bin")
   *   }
   * }
   * const app = new ModelApp().endpoint("/", {}, () => ({ ok: true }));
   * // The first request runs setup(); requests wait for it (/health answers 503 meanwhile).
   * const response = await app.fetch(new Request("http://localhost/", { method: "POST" }));
   * assert.equal(response.status, 200);
   * await response.body?.cancel();
   * assert.equal(app.weights?.length, 16);
   * ```
   */
  setup(): void | Promise<void> {}

  /**
   * Runs at shutdown under `serve()`, after open sessions and requests in flight have drained.
   *
   * @returns Nothing, or a promise of nothing.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * let released = false;
   * const app = new App({ teardown: () => void (released = true) });
   * await app.fetch(new Request("http://localhost/health"));
   * await app.drain(1_000); // serve() does this at shutdown
   * assert.ok(released);
   * ```
   */
  teardown(): void | Promise<void> {}

  /**
   * Called with every error a handler throws; clients see only a generic message.
   *
   * @param error What the handler threw.
   * @param ctx The request's or session's context.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * const errors: string[] = [];
   * const app = new App({ onError: (error, ctx) => errors.push(`${ctx.requestId}: ${error}`) })
   *   .endpoint("/", {}, () => {
   *     throw new Error("boom");
   *   });
   * const response = await app.fetch(
   *   new Request("http://localhost/", { method: "POST", headers: { "x-request-id": "req-1" } }),
   * );
   * assert.equal(response.status, 500); // the client sees a generic message
   * assert.deepEqual(errors, ["req-1: Error: boom"]);
   * ```
   */
  onError(error: unknown, ctx: Context): void {
    // With logs on (`rally serve`), the error and its stack go in one JSON log line.
    if (this.#runner?.logError(error, ctx)) return;
    console.error(`rally: handler failed (request ${ctx.requestId}):`, error);
  }

  /**
   * Open WebSocket sessions (realtime and raw).
   *
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/hold", async (socket) => void (await socket.receive()));
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   * await using ws = await wsConnect(url, { path: "/hold" });
   * while (app.sessionCount === 0) await new Promise((resolve) => setTimeout(resolve, 1));
   * assert.equal(app.sessionCount, 1);
   * ```
   */
  get sessionCount(): number {
    return this.#runner?.sessionCount ?? 0;
  }

  /**
   * Add an HTTP endpoint: `POST path` with a JSON or msgpack body.
   *
   * @param path The URL path.
   * @param options Input and output schemas, body cap.
   * @param handler Gets the validated input, returns the output.
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const app = new App().endpoint("/", { input: z.object({ prompt: z.string() }) }, (input) => ({
   *   output: input.prompt.toUpperCase(),
   * }));
   * const post = (path: string, body: unknown) =>
   *   app.fetch(
   *     new Request(`http://localhost${path}`, {
   *       method: "POST",
   *       body: JSON.stringify(body),
   *       headers: { "content-type": "application/json" },
   *     }),
   *   );
   * assert.deepEqual(await (await post("/", { prompt: "hi" })).json(), { output: "HI" });
   * ```
   */
  endpoint<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    P extends string = string,
    H extends EndpointHandler<I, O> = EndpointHandler<I, O>,
  >(
    path: P,
    options: EndpointOptions<I, O>,
    handler: H,
  ): this & EndpointAdded<P, I, O, H> {
    checkMessageBytes(`add the endpoint route ${path}`, options.maxMessageBytes);
    return this.#add<EndpointAdded<P, I, O, H>>({
      kind: "endpoint",
      path,
      route: {
        input: options.input,
        output: options.output,
        maxMessageBytes: options.maxMessageBytes ?? 0,
        handler: handler as EndpointRoute["handler"],
      },
    });
  }

  /**
   * Add a realtime endpoint: a WebSocket at `path` carrying one msgpack input per frame and one
   * output per frame, in order, with the latest inputs winning when the handler falls behind.
   *
   * @param path The URL path.
   * @param options Schemas, buffering, batching, timeouts.
   * @param handler Gets each validated input (an array when `maxBatchSize` is over 1).
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App, realtime, serve } from "@rally/rally";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const app = new App().realtime(
   *   "/realtime",
   *   { input: z.object({ prompt: z.string() }), buffering: 2, sessionTimeout: 60 },
   *   (input) => ({ output: input.prompt }),
   * );
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   * await using conn = await realtime(url);
   * conn.send({ prompt: "hi" });
   * assert.deepEqual(await conn.receive(), { output: "hi" });
   * ```
   */
  realtime<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    B extends number | undefined = undefined,
    M extends RealtimeMode = "unary",
    P extends string = string,
    H extends RealtimeHandler<I, O, B, M> = RealtimeHandler<I, O, B, M>,
  >(
    path: P,
    options: RealtimeEndpointOptions<I, O, B, M>,
    handler: H,
  ): this & RealtimeAdded<P, I, O, M, H> {
    checkMessageBytes(`add the realtime route ${path}`, options.maxMessageBytes);
    return this.#add<RealtimeAdded<P, I, O, M, H>>({
      kind: "realtime",
      path,
      route: realtimeRoute(path, options, handler as RealtimeRoute["handler"]),
    });
  }

  /**
   * Add a raw WebSocket endpoint: the handler owns the session.
   *
   * @param path The URL path.
   * @param optionsOrHandler Frame and unread-bytes caps, or the handler.
   * @param handler The handler, when options come first.
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App, serve, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App().websocket("/echo", async (socket) => {
   *   for await (const message of socket) socket.send(message);
   * });
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   * await using ws = await wsConnect(url, { path: "/echo" });
   * ws.send("hi");
   * assert.equal(await ws.receive(), "hi");
   * ```
   */
  websocket<P extends string = string>(
    path: P,
    optionsOrHandler: WebSocketOptions | WebSocketHandler,
    handler?: WebSocketHandler,
  ): this & WebSocketAdded<P> {
    const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
    const run = typeof optionsOrHandler === "function" ? optionsOrHandler : handler;
    if (!run) throw new TypeError("websocket() needs a handler");
    checkMessageBytes(`add the websocket route ${path}`, options.maxMessageBytes);
    return this.#add<WebSocketAdded<P>>({
      kind: "websocket",
      path,
      route: {
        maxMessageBytes: options.maxMessageBytes ?? 0,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
        handler: run,
      },
    });
  }

  /**
   * Add a WebRTC endpoint: a signaling WebSocket at `path` (the server's `ready`, the client's
   * `offer`, the server's `answer`, `icecandidate` both ways, `error`; msgpack binary or JSON
   * text frames, answered in the client's format), then a libwebrtc peer (npm:@roamhq/wrtc,
   * loaded on the first signaling session) that serves the realtime route at `options.endpoint`
   * over the DataChannel the client opens (each message `[seq, payload]`; an unordered channel
   * is latest-wins), and passes each frame of the client's video track through
   * `options.video`, whose frames go back on the peer's outgoing video track (newest frame wins).
   * The signaling socket stays open while the peer lives; closing either ends the session.
   *
   * @param path The URL path of the signaling WebSocket.
   * @param options The realtime route's path (registered before), the video handler, ICE
   * servers and candidate policy, input cap.
   * @returns This app, to chain more routes.
   * @throws {TypeError} when `options.endpoint` is not a realtime route of this app, or neither
   * `endpoint` nor `video` is given.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const app = new App()
   *   .realtime("/realtime", { input: z.object({ prompt: z.string() }) }, (input) => ({
   *     output: input.prompt,
   *   }))
   *   .webrtc("/webrtc", {
   *     endpoint: "/realtime",
   *     // Each camera frame, darkened, goes back on the peer's video track.
   *     video: (frame) => ({ ...frame, data: frame.data.map((v, i) => i < frame.width * frame.height ? v >> 1 : v) }),
   *   });
   * const signaling = app.openapi().paths["/webrtc"] as { "x-fal-protocol": { type: string } };
   * assert.equal(signaling["x-fal-protocol"].type, "webrtc");
   * ```
   */
  webrtc(path: string, options: WebRtcOptions): this {
    const route = webrtcRoute(options);
    if (
      route.endpoint !== undefined &&
      !this.#routes.some((other) => other.kind === "realtime" && other.path === route.endpoint)
    ) {
      throw new TypeError(
        `webrtc() needs a realtime route registered before it at ${route.endpoint}`,
      );
    }
    return this.#add({ kind: "webrtc", path, route });
  }

  /**
   * Add an SSE streaming endpoint: `POST path` with an input body as for HTTP endpoints; the
   * response is `text/event-stream`, one `data: <json>` event per output the handler yields.
   *
   * @param path The URL path.
   * @param options Input and output schemas, body cap.
   * @param handler Gets the validated input, yields outputs (an async generator, usually).
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const app = new App().stream(
   *   "/tokens",
   *   { input: z.object({ prompt: z.string() }) },
   *   async function* (input, ctx) {
   *     for (const token of input.prompt.split(" ")) {
   *       if (ctx.signal.aborted) return;
   *       yield { token };
   *     }
   *   },
   * );
   * const post = (path: string, body: unknown) =>
   *   app.fetch(
   *     new Request(`http://localhost${path}`, {
   *       method: "POST",
   *       body: JSON.stringify(body),
   *       headers: { "content-type": "application/json" },
   *     }),
   *   );
   * const events = (await (await post("/tokens", { prompt: "a b" })).text()).match(/^data: .*$/gm);
   * assert.deepEqual(events, ['data: {"token":"a"}', 'data: {"token":"b"}']);
   * ```
   */
  stream<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    P extends string = string,
    H extends StreamHandler<I, O> = StreamHandler<I, O>,
  >(
    path: P,
    options: StreamEndpointOptions<I, O>,
    handler: H,
  ): this & StreamAdded<P, I, O, H> {
    checkMessageBytes(`add the stream route ${path}`, options.maxMessageBytes);
    return this.#add<StreamAdded<P, I, O, H>>({
      kind: "stream",
      path,
      route: {
        input: options.input,
        output: options.output,
        maxMessageBytes: options.maxMessageBytes ?? 0,
        handler: handler as StreamRoute["handler"],
      },
    });
  }

  /**
   * Add a plain GET route, so that the App can serve its own front end (a page, a script): the
   * handler gets the request and answers any `Response`. `HEAD` is answered from it without the
   * body; other methods get 405. Like every route but `/health`, it sits behind the App's `auth`
   * (a page that must load without credentials can be let in by `auth.verify`, by method and
   * path); CORS applies; it counts as an HTTP request (`maxConcurrency`, drain, `keepAlive`). The
   * OpenAPI document leaves GET routes out.
   *
   * @param path The URL path (Hono's patterns, as for the other routes).
   * @param handler Gets the request and its context, answers the response.
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * const app = new App().get("/", () =>
   *   new Response("<!doctype html><h1>Hello</h1>", {
   *     headers: { "content-type": "text/html; charset=utf-8" },
   *   }));
   * const response = await app.fetch(new Request("http://localhost/"));
   * assert.equal(await response.text(), "<!doctype html><h1>Hello</h1>");
   * ```
   */
  get(path: string, handler: GetHandler): this {
    if (typeof handler !== "function") throw new TypeError("get() needs a handler");
    return this.#add({ kind: "get", path, route: { handler } });
  }

  /**
   * Serve one request: the fetch handler for `Deno.serve`, `deno serve` or any other host. The
   * first request starts the App (runs `setup()`).
   *
   * @param request The request.
   * @returns The response.
   * @throws {RangeError} when an option is out of range (it is read at the first request).
   * @example
   * ```ts
   * import { App, VERSION } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * const app = new App();
   * const response = await app.fetch(new Request("http://localhost/health"));
   * assert.deepEqual(await response.json(), { status: "ok", version: VERSION });
   * ```
   */
  fetch = (request: Request): Response | Promise<Response> => {
    this.#runner ??= new Runner(this, this.#routes);
    return this.#runner.fetch(request);
  };

  /**
   * Stop taking work and drain: new requests get 503; each open session finishes its handler
   * call and pending inputs for up to `graceMs`, sends their outputs, then gets `SHUTTING_DOWN`
   * (with `unprocessed`) and close 1001; HTTP and SSE requests in flight get the same time,
   * then their `ctx.signal` aborts; once all are over, `teardown()` runs. `serve()` calls this
   * on shutdown; a later `serve()` starts the App again.
   *
   * @param graceMs How long sessions and requests may take to finish.
   * @returns When the App has stopped; rejects with `teardown()`'s error.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * const app = new App().endpoint("/", {}, () => ({ ok: true }));
   * await app.fetch(new Request("http://localhost/health"));
   * await app.drain(5_000);
   * const after = await app.fetch(new Request("http://localhost/", { method: "POST" }));
   * assert.equal(after.status, 503); // stopped: new requests are refused
   * ```
   */
  drain(graceMs: number): Promise<void> {
    this.#runner ??= new Runner(this, this.#routes);
    return this.#runner.drain(graceMs);
  }

  /**
   * The OpenAPI 3.1 document of the app (what `GET /openapi.json` answers): HTTP and SSE routes
   * with the JSON Schemas of their inputs and outputs, and `x-fal-protocol` on each WebSocket
   * route.
   *
   * @returns The document.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * const app = new App({ name: "echo" }).endpoint("/", {}, (input) => input);
   * assert.deepEqual(Object.keys(app.openapi().paths).sort(), ["/", "/health"]);
   * ```
   */
  openapi(): OpenApiDocument {
    return openApiDocument(this.name, this.#routes);
  }

  /**
   * Decorate a method of an App subclass as an HTTP endpoint, as `app.endpoint()` does.
   *
   * @param path The URL path.
   * @param options Input and output schemas, body cap.
   * @returns The method decorator.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const Input = z.object({ prompt: z.string() });
   *
   * class Upper extends App {
   *   @App.endpoint("/", { input: Input })
   *   generate(input: z.infer<typeof Input>) {
   *     return { output: input.prompt.toUpperCase() };
   *   }
   * }
   * const app = new Upper();
   * const post = (path: string, body: unknown) =>
   *   app.fetch(
   *     new Request(`http://localhost${path}`, {
   *       method: "POST",
   *       body: JSON.stringify(body),
   *       headers: { "content-type": "application/json" },
   *     }),
   *   );
   * assert.deepEqual(await (await post("/", { prompt: "hi" })).json(), { output: "HI" });
   * ```
   */
  static endpoint<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    P extends string = string,
  >(path: P, options: EndpointOptions<I, O> = {}): EndpointDecorator<I, O, P> {
    return endpointDecorator(path, options);
  }

  /**
   * Decorate a method of an App subclass as a realtime endpoint, as `app.realtime()` does.
   *
   * @param path The URL path.
   * @param options Schemas, buffering, batching, timeouts.
   * @returns The method decorator.
   * @example
   * ```ts
   * import { App, realtime, serve } from "@rally/rally";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const Input = z.object({ prompt: z.string() });
   *
   * class Echo extends App {
   *   @App.realtime("/realtime", { input: Input, buffering: 2 })
   *   generate(input: z.infer<typeof Input>) {
   *     return { output: input.prompt };
   *   }
   * }
   * const app = new Echo();
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   * await using conn = await realtime(url);
   * conn.send({ prompt: "hi" });
   * assert.deepEqual(await conn.receive(), { output: "hi" });
   * ```
   */
  static realtime<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    B extends number | undefined = undefined,
    M extends RealtimeMode = "unary",
    P extends string = string,
  >(
    path: P,
    options: RealtimeEndpointOptions<I, O, B, M> = {},
  ): RealtimeDecorator<I, O, B, M, P> {
    return realtimeDecorator(path, options);
  }

  /**
   * Decorate a method of an App subclass as a raw WebSocket endpoint, as `app.websocket()`
   * does.
   *
   * @param path The URL path.
   * @param options Frame and unread-bytes caps.
   * @returns The method decorator.
   * @example
   * ```ts
   * import { App, serve, type WebSocketSession, wsConnect } from "@rally/rally";
   * import assert from "node:assert/strict";
   *
   * class Echo extends App {
   *   @App.websocket("/echo")
   *   async echo(socket: WebSocketSession) {
   *     for await (const message of socket) socket.send(message);
   *   }
   * }
   * const app = new Echo();
   * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
   * const url = `http://127.0.0.1:${server.addr.port}`;
   * await using ws = await wsConnect(url, { path: "/echo" });
   * ws.send("hi");
   * assert.equal(await ws.receive(), "hi");
   * ```
   */
  static websocket<P extends string = string>(
    path: P,
    options: WebSocketOptions = {},
  ): WebSocketDecorator<P> {
    return websocketDecorator(path, options);
  }

  /**
   * Decorate a method of an App subclass as a plain GET route, as `app.get()` does.
   *
   * @param path The URL path.
   * @returns The method decorator.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * class Site extends App {
   *   @App.get("/")
   *   page(_request: Request): Response {
   *     return new Response("<h1>Hello</h1>", { headers: { "content-type": "text/html" } });
   *   }
   * }
   * const response = await new Site().fetch(new Request("http://localhost/"));
   * assert.equal(await response.text(), "<h1>Hello</h1>");
   * ```
   */
  static get(path: string): GetDecorator {
    return getDecorator(path);
  }

  /**
   * Decorate a method of an App subclass (usually an async generator) as an SSE endpoint, as
   * `app.stream()` does.
   *
   * @param path The URL path.
   * @param options Input and output schemas, body cap.
   * @returns The method decorator.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   * import assert from "node:assert/strict";
   *
   * const Input = z.object({ prompt: z.string() });
   *
   * class Tokens extends App {
   *   @App.stream("/tokens", { input: Input })
   *   async *tokens(input: z.infer<typeof Input>) {
   *     for (const token of input.prompt.split(" ")) yield { token };
   *   }
   * }
   * const app = new Tokens();
   * const post = (path: string, body: unknown) =>
   *   app.fetch(
   *     new Request(`http://localhost${path}`, {
   *       method: "POST",
   *       body: JSON.stringify(body),
   *       headers: { "content-type": "application/json" },
   *     }),
   *   );
   * const text = await (await post("/tokens", { prompt: "a b" })).text();
   * assert.deepEqual(text.match(/^data: .*$/gm), ['data: {"token":"a"}', 'data: {"token":"b"}']);
   * ```
   */
  static stream<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    P extends string = string,
  >(path: P, options: StreamEndpointOptions<I, O> = {}): StreamDecorator<I, O, P> {
    return streamDecorator(path, options);
  }

  /** Add a route; `T` is what it adds to the App's type (its route type, type-level only). */
  #add<T = unknown>(route: Route): this & T {
    if (!route.path.startsWith("/")) {
      throw new TypeError(`A path must start with "/": ${route.path}`);
    }
    if (OWN_PATHS.includes(route.path)) {
      throw new TypeError(`${route.path} is rally's own route`);
    }
    if (this.#routes.some((other) => other.path === route.path)) {
      throw new TypeError(`A route is already registered at ${route.path}`);
    }
    this.#routes.push(route);
    this.#runner?.routesChanged();
    return this as this & T;
  }
}

/** A subclass's name in kebab case, as fal names apps (`RealtimeApp` → `realtime-app`). */
function defaultName(type: abstract new (...args: never) => App): string {
  const words = type === App ? null : type.name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+/g);
  return words?.join("-").toLowerCase() || "rally";
}
