/**
 * `client<typeof app>(url)`: rally's client typed from an App's own type, with no code
 * generation (Hono's `hc<typeof app>` idea). Each method takes only paths of its kind of route,
 * the route's input type, and resolves to its output type; a realtime connection has `end()`
 * only in the streaming modes that read it. Browser-safe: import the App with `import type`,
 * and no server code reaches the bundle.
 *
 * @module
 */
import type {
  EndpointType,
  RealtimeMode,
  RealtimeType,
  RoutesOf,
  RouteType,
  StreamType,
  WebSocketType,
} from "../route_types.ts";
import { connect, type ConnectOptions, type RealtimeHandle } from "./connect.ts";
import { run, type RunOptions } from "./http.ts";
import { realtime, type RealtimeClientOptions, type RealtimeConnection } from "./realtime.ts";
import type { SocketOptions } from "./socket.ts";
import { stream, type StreamClientOptions } from "./stream.ts";
import { wsConnect, type WsConnection } from "./websocket.ts";

/**
 * Credentials and headers that every call of a typed client sends.
 *
 * @example
 * ```ts
 * import { client, type ClientOptions } from "@rally/rally/client";
 * import { testClient } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * // A handler that answers with the credentials it was sent.
 * const echo = {
 *   fetch: (request: Request) => Response.json({ auth: request.headers.get("authorization") }),
 * };
 * await using t = testClient(echo);
 * const options: ClientOptions = { token: "secret" };
 * assert.deepEqual(await client(t.url, options).run("/"), { auth: "Bearer secret" });
 * ```
 */
export interface ClientOptions {
  /** A token: `Authorization: Bearer <token>` over HTTP, `fal_jwt_token` on WebSockets. */
  token?: string;
  /** An API key, sent as `Authorization: Key <key>` (keep keys out of browsers). */
  key?: string;
  /** Extra headers (WebSockets: Deno only, browsers cannot set them). */
  headers?: Record<string, string>;
}

/**
 * The route types a typed client assumes, by kind, for an App whose routes its type does not
 * carry (a subclass that declared none): any path, the untyped client's input and output types.
 *
 * @example
 * ```ts
 * import type { UntypedRoutes } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // Without route types, an endpoint's output is some JSON object.
 * const output: UntypedRoutes["endpoint"]["output"] = { anything: 1 };
 * const route: UntypedRoutes["websocket"] = { kind: "websocket" };
 * assert.equal(output.anything, 1);
 * assert.equal(route.kind, "websocket");
 * ```
 */
export interface UntypedRoutes {
  /** Any HTTP endpoint. */
  endpoint: EndpointType<unknown, Record<string, unknown>>;
  /** Any SSE endpoint. */
  stream: StreamType<unknown, Record<string, unknown>>;
  /** Any realtime endpoint. */
  realtime: RealtimeType<Record<string, unknown>, Record<string, unknown>, RealtimeMode>;
  /** Any raw WebSocket endpoint. */
  websocket: WebSocketType;
}

/**
 * Whether a route map is unknown (no paths, or any `string`): then any path goes.
 *
 * @typeParam R The route types.
 *
 * @example
 * ```ts
 * import type { RouteTypes, Untyped, WebSocketType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const unknownRoutes: Untyped<RouteTypes> = true; // any path goes
 * const knownRoutes: Untyped<{ "/ws": WebSocketType }> = false;
 * assert.notEqual(unknownRoutes, knownRoutes);
 * ```
 */
export type Untyped<R> = [keyof R] extends [never] ? true : string extends keyof R ? true : false;

/**
 * The paths of a route map's routes of one kind (any `string` when the routes are unknown).
 *
 * @typeParam R The route types.
 * @typeParam K The kind of route.
 *
 * @example
 * ```ts
 * import type { EndpointType, PathsOf, WebSocketType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * type Routes = {
 *   "/": EndpointType<{ prompt: string }, { output: string }>;
 *   "/ws": WebSocketType;
 * };
 * const path: PathsOf<Routes, "endpoint"> = "/";
 * // @ts-expect-error "/ws" is no HTTP endpoint
 * const wrong: PathsOf<Routes, "endpoint"> = "/ws";
 * assert.deepEqual([path, wrong], ["/", "/ws"]);
 * ```
 */
export type PathsOf<R, K extends RouteType["kind"]> = Untyped<R> extends true ? string
  : { [P in keyof R]: R[P] extends { readonly kind: K } ? P : never }[keyof R] & string;

/**
 * The route at a path, of one kind.
 *
 * @typeParam R The route types.
 * @typeParam P The path.
 * @typeParam K The kind of route.
 *
 * @example
 * ```ts
 * import type { EndpointType, RouteAt } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * type Routes = { "/": EndpointType<{ prompt: string }, { output: string }> };
 * const route: RouteAt<Routes, "/", "endpoint"> = {
 *   kind: "endpoint",
 *   input: { prompt: "hi" },
 *   output: { output: "hi" },
 * };
 * assert.equal(route.kind, "endpoint");
 * ```
 */
export type RouteAt<R, P, K extends keyof UntypedRoutes> = Untyped<R> extends true
  ? UntypedRoutes[K]
  : R[P & keyof R];

/**
 * What a client sends to the route at a path.
 *
 * @typeParam R The route types.
 * @typeParam P The path.
 * @typeParam K The kind of route.
 *
 * @example
 * ```ts
 * import type { EndpointType, InputAt } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * type Routes = { "/": EndpointType<{ prompt: string }, { output: string }> };
 * const input: InputAt<Routes, "/", "endpoint"> = { prompt: "hi" };
 * assert.equal(input.prompt, "hi");
 * ```
 */
export type InputAt<R, P, K extends keyof UntypedRoutes> = RouteAt<R, P, K> extends
  { readonly input: infer I } ? I : never;

/**
 * What a client gets from the route at a path.
 *
 * @typeParam R The route types.
 * @typeParam P The path.
 * @typeParam K The kind of route.
 *
 * @example
 * ```ts
 * import type { EndpointType, OutputAt } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * type Routes = { "/": EndpointType<{ prompt: string }, { output: string }> };
 * const output: OutputAt<Routes, "/", "endpoint"> = { output: "hi" };
 * assert.equal(output.output, "hi");
 * ```
 */
export type OutputAt<R, P, K extends keyof UntypedRoutes> = RouteAt<R, P, K> extends
  { readonly output: infer O } ? O : never;

/**
 * The arguments after the path: the input (optional when the route takes `undefined`), then
 * options.
 *
 * @typeParam I The route's input.
 * @typeParam Options The call's options.
 *
 * @example
 * ```ts
 * import type { InputArgs } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const required: InputArgs<{ prompt: string }, { timeout: number }> = [{ prompt: "hi" }];
 * const optional: InputArgs<{ prompt: string } | undefined, { timeout: number }> = [];
 * assert.equal(required.length, 1);
 * assert.equal(optional.length, 0);
 * ```
 */
export type InputArgs<I, Options> = undefined extends I ? [input?: I, options?: Options]
  : [input: I, options?: Options];

/**
 * A realtime connection typed by its route: inputs, outputs, and `end()` only for
 * `client_streaming` and `bidi` routes.
 *
 * @typeParam T The route's type.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import type { RouteAt, RoutesOf, TypedConnection } from "@rally/rally/client";
 * import { testClient } from "@rally/rally/testing";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime(
 *   "/live",
 *   { input: z.object({ prompt: z.string() }) },
 *   (input) => ({ output: input.prompt }),
 * );
 * await using t = testClient(app);
 * await using conn: TypedConnection<RouteAt<RoutesOf<typeof app>, "/live", "realtime">> = await t
 *   .realtime("/live");
 * conn.send({ prompt: "hi" });
 * assert.deepEqual(await conn.receive(), { output: "hi" });
 * // @ts-expect-error a unary route reads no end message: the type has no end()
 * const end = () => conn.end();
 * assert.equal(typeof end, "function");
 * ```
 */
export type TypedConnection<T> = T extends {
  readonly input: infer I;
  readonly output: infer O;
  readonly mode: infer M;
} ? [M] extends ["unary" | "server_streaming"] ? Omit<RealtimeConnection<I, O>, "end">
  : RealtimeConnection<I, O>
  : never;

/**
 * A client typed from an App's routes: see {@link client}.
 *
 * @typeParam R The App's route types.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { client, type RoutesOf, type TypedClient } from "@rally/rally/client";
 * import { testClient } from "@rally/rally/testing";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * await using t = testClient(app);
 * const api: TypedClient<RoutesOf<typeof app>> = client<typeof app>(t.url);
 * assert.equal(api.url, t.url);
 * assert.equal((await api.run("/")).ok, true);
 * ```
 */
export interface TypedClient<R> {
  /** The server's base URL. */
  readonly url: string;
  /**
   * Call an HTTP endpoint once.
   *
   * @param path The endpoint's path (only HTTP endpoints' paths type-check).
   * @param args The input (the route's input type), then options of {@link run}.
   * @returns The endpoint's output.
   * @throws {HttpError} when the server answers with an error status.
   */
  run<P extends PathsOf<R, "endpoint">>(
    path: P,
    ...args: InputArgs<InputAt<R, P, "endpoint">, Omit<RunOptions, "path" | "input">>
  ): Promise<OutputAt<R, P, "endpoint">>;
  /**
   * Call an SSE streaming endpoint and iterate over its outputs.
   *
   * @param path The endpoint's path (only SSE endpoints' paths type-check).
   * @param args The input, then options of {@link stream}.
   * @returns The outputs, in order.
   */
  stream<P extends PathsOf<R, "stream">>(
    path: P,
    ...args: InputArgs<
      InputAt<R, P, "stream">,
      Omit<StreamClientOptions, "path" | "input">
    >
  ): AsyncIterable<OutputAt<R, P, "stream">>;
  /**
   * Open a realtime connection (script form).
   *
   * @param path The endpoint's path (only realtime endpoints' paths type-check).
   * @param options Options of {@link realtime}.
   * @returns The open connection, typed by the route.
   * @throws {RealtimeError} `CONNECTION_CLOSED` when it cannot connect.
   */
  realtime<P extends PathsOf<R, "realtime">>(
    path: P,
    options?: Omit<RealtimeClientOptions, "path">,
  ): Promise<TypedConnection<RouteAt<R, P, "realtime">>>;
  /**
   * Connect to a realtime endpoint, callback style, with throttling and reconnects.
   *
   * @param path The endpoint's path (only realtime endpoints' paths type-check).
   * @param options Options of {@link connect}; `onResult` gets the route's output type.
   * @returns `{ send, close }`; `send` takes the route's input type.
   */
  connect<P extends PathsOf<R, "realtime">>(
    path: P,
    options: Omit<ConnectOptions<OutputAt<R, P, "realtime">>, "path">,
  ): RealtimeHandle<InputAt<R, P, "realtime">>;
  /**
   * Connect to a raw WebSocket endpoint.
   *
   * @param path The endpoint's path (only raw WebSocket endpoints' paths type-check).
   * @param options Options of {@link wsConnect}.
   * @returns The open connection.
   * @throws {RealtimeError} `CONNECTION_CLOSED` when it cannot connect.
   */
  ws<P extends PathsOf<R, "websocket">>(
    path: P,
    options?: Omit<SocketOptions, "path">,
  ): Promise<WsConnection>;
}

/**
 * A client typed from an App: `client<typeof app>(url)`. Paths, inputs, outputs and streaming
 * modes come from the App's routes (the builder methods record them in `typeof app`; a subclass
 * declares them with `extends App<{ ... }>`). In a browser, import the App's type only
 * (`import type app from "./app.ts"`): nothing of the server is bundled.
 *
 * @typeParam A The App's type (`typeof app`), or its route types.
 * @param url The server's base URL.
 * @param options Credentials and headers for every call.
 * @returns The typed client.
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { client } from "@rally/rally/client";
 * import { testClient } from "@rally/rally/testing";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint(
 *   "/",
 *   { input: z.object({ prompt: z.string() }) },
 *   (input) => ({ output: input.prompt }),
 * );
 * await using t = testClient(app); // in memory here; a server's URL works the same
 * const api = client<typeof app>(t.url);
 * const { output } = await api.run("/", { prompt: "hi" }); // output: string
 * assert.equal(output, "hi");
 * // @ts-expect-error no HTTP endpoint at /nope
 * const wrong = () => api.run("/nope", { prompt: "hi" });
 * assert.equal(typeof wrong, "function");
 * ```
 */
export function client<A>(
  url: string | URL,
  options: ClientOptions = {},
): TypedClient<RoutesOf<A>> {
  const base = String(url);
  const merge = <T extends ClientOptions>(given: T | undefined): T => {
    const headers = options.headers || given?.headers
      ? { ...options.headers, ...given?.headers }
      : undefined;
    return { token: options.token, key: options.key, ...given, headers } as T;
  };
  const typed: TypedClient<RoutesOf<Record<string, never>>> = {
    url: base,
    run: (path, input, callOptions) => run(base, { ...merge(callOptions), path, input }),
    stream: (path, input, callOptions) => stream(base, { ...merge(callOptions), path, input }),
    realtime: (path, callOptions) => realtime(base, { ...merge(callOptions), path }),
    connect: (path, callOptions) => connect(base, { ...merge(callOptions), path }),
    ws: (path, callOptions) => wsConnect(base, { ...merge(callOptions), path }),
  };
  return typed as TypedClient<RoutesOf<A>>;
}
