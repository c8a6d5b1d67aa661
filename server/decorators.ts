/**
 * The class form: standard (TC39) method decorators that register a subclass's methods on the
 * App's route table, the same table the builder methods fill. `App` exposes them as statics
 * (`@App.endpoint`, `@App.realtime`, `@App.websocket`, `@App.stream`, `@App.get`), so that they never clash
 * with the client's `realtime()` and `stream()`.
 *
 * Each decorator adds an initializer that runs when an instance is built (right after `super()`
 * returns), registering the method bound to the instance: `this` in a route method is the App.
 *
 * @module
 */
import type { App } from "./app.ts";
import type { GetHandler } from "./get.ts";
import type { EndpointHandler, EndpointOptions } from "./http.ts";
import type { RealtimeEndpointOptions, RealtimeHandler, RealtimeMode } from "./realtime.ts";
import type { Schema } from "./schema.ts";
import type { DeclaredRoute, RouteShape } from "./route_typing.ts";
import type { StreamEndpointOptions, StreamHandler } from "./stream.ts";
import type { WebSocketHandler, WebSocketOptions } from "./websocket.ts";

/**
 * A method decorator for route methods of an App subclass: the method takes and returns what a
 * handler of type `H` does, with the App as `this`. When the subclass declares its route types
 * (`extends App<{ ... }>`), the route at `P` must be declared there as `T`: a missing or
 * different declaration is a compile error at the decorator.
 *
 * @typeParam H The handler type of the route.
 * @typeParam P The route's path.
 * @typeParam T What the declaration of the route must match.
 * @example
 * ```ts
 * import { App, type EndpointHandler, type RouteDecorator } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // A decorator of your own that registers what @App.endpoint does, at a fixed path:
 * const ping: RouteDecorator<EndpointHandler<undefined, undefined>> = App.endpoint("/ping");
 * class Pinged extends App {
 *   @ping
 *   pong() {
 *     return { pong: true };
 *   }
 * }
 * const response = await new Pinged().fetch(new Request("http://localhost/ping", { method: "POST" }));
 * assert.deepEqual(await response.json(), { pong: true });
 * ```
 */
export type RouteDecorator<
  H extends (...args: never[]) => unknown,
  P extends string = string,
  T = unknown,
> = <This extends App>(
  method: (this: This, ...args: Parameters<H>) => ReturnType<H>,
  context: ClassMethodDecoratorContext<This> & DeclaredRoute<This, P, T>,
) => void;

/**
 * `@App.endpoint`: decorates an HTTP endpoint's handler.
 *
 * @example
 * ```ts
 * import { App, type EndpointDecorator } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const upper: EndpointDecorator<typeof Input, undefined> = App.endpoint("/", { input: Input });
 * class Upper extends App {
 *   @upper
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
export type EndpointDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  P extends string = string,
> = RouteDecorator<EndpointHandler<I, O>, P, RouteShape<"endpoint", I, O>>;

/**
 * `@App.realtime`: decorates a realtime endpoint's handler.
 *
 * @example
 * ```ts
 * import { App, realtime, type RealtimeDecorator, serve } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const live: RealtimeDecorator<undefined, undefined, undefined, "unary"> = App.realtime("/live");
 * class Live extends App {
 *   @live
 *   echo(input: unknown) {
 *     return input;
 *   }
 * }
 * const app = new Live();
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 * await using conn = await realtime(url, { path: "/live" });
 * conn.send({ n: 1 });
 * assert.deepEqual(await conn.receive(), { n: 1 });
 * ```
 */
export type RealtimeDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
  M extends RealtimeMode,
  P extends string = string,
> = RouteDecorator<
  RealtimeHandler<I, O, B, M>,
  P,
  RouteShape<"realtime", I, O> & { readonly mode: M }
>;

/**
 * `@App.websocket`: decorates a raw WebSocket endpoint's handler.
 *
 * @example
 * ```ts
 * import { App, serve, type WebSocketDecorator, type WebSocketSession, wsConnect } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const echoAt: WebSocketDecorator = App.websocket("/echo");
 * class Echo extends App {
 *   @echoAt
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
export type WebSocketDecorator<P extends string = string> = RouteDecorator<
  WebSocketHandler,
  P,
  { readonly kind: "websocket" }
>;

/**
 * `@App.stream`: decorates an SSE endpoint's handler, usually an async generator.
 *
 * @example
 * ```ts
 * import { App, type StreamDecorator } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const tokensAt: StreamDecorator<undefined, undefined> = App.stream("/tokens");
 * class Tokens extends App {
 *   @tokensAt
 *   async *tokens() {
 *     yield { token: "a" };
 *   }
 * }
 * const response = await new Tokens().fetch(
 *   new Request("http://localhost/tokens", { method: "POST" }),
 * );
 * assert.match(await response.text(), /data: \{"token":"a"\}/);
 * ```
 */
export type StreamDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  P extends string = string,
> = RouteDecorator<StreamHandler<I, O>, P, RouteShape<"stream", I, O>>;

/**
 * Make `@App.endpoint(path, options)`.
 *
 * @param path The URL path.
 * @param options As for `app.endpoint()`.
 * @returns The decorator.
 */
export function endpointDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  P extends string,
>(
  path: P,
  options: EndpointOptions<I, O>,
): EndpointDecorator<I, O, P> {
  return (method, context) =>
    register(context, (app) => app.endpoint(path, options, method.bind(app)));
}

/**
 * Make `@App.realtime(path, options)`.
 *
 * @param path The URL path.
 * @param options As for `app.realtime()`.
 * @returns The decorator.
 */
export function realtimeDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
  M extends RealtimeMode,
  P extends string,
>(path: P, options: RealtimeEndpointOptions<I, O, B, M>): RealtimeDecorator<I, O, B, M, P> {
  return (method, context) =>
    register(
      context,
      (app) => app.realtime(path, options, method.bind(app) as RealtimeHandler<I, O, B, M>),
    );
}

/**
 * Make `@App.websocket(path, options)`.
 *
 * @param path The URL path.
 * @param options As for `app.websocket()`.
 * @returns The decorator.
 */
export function websocketDecorator<P extends string>(
  path: P,
  options: WebSocketOptions,
): WebSocketDecorator<P> {
  return (method, context) =>
    register(context, (app) => app.websocket(path, options, method.bind(app)));
}

/**
 * `@App.get`: decorates a plain GET route's handler.
 *
 * @example
 * ```ts
 * import { App, type GetDecorator } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const home: GetDecorator = App.get("/");
 * class Site extends App {
 *   @home
 *   page() {
 *     return new Response("<h1>Hello</h1>", { headers: { "content-type": "text/html" } });
 *   }
 * }
 * const response = await new Site().fetch(new Request("http://localhost/"));
 * assert.equal(await response.text(), "<h1>Hello</h1>");
 * ```
 */
export type GetDecorator = RouteDecorator<GetHandler>;

/**
 * Make `@App.get(path)`.
 *
 * @param path The URL path.
 * @returns The decorator.
 */
export function getDecorator(path: string): GetDecorator {
  return (method, context) => register(context, (app) => app.get(path, method.bind(app)));
}

/**
 * Make `@App.stream(path, options)`.
 *
 * @param path The URL path.
 * @param options As for `app.stream()`.
 * @returns The decorator.
 */
export function streamDecorator<
  I extends Schema | undefined,
  O extends Schema | undefined,
  P extends string,
>(
  path: P,
  options: StreamEndpointOptions<I, O>,
): StreamDecorator<I, O, P> {
  return (method, context) =>
    register(context, (app) => app.stream(path, options, method.bind(app)));
}

function register<This extends App>(
  context: ClassMethodDecoratorContext<This>,
  add: (app: This) => void,
): void {
  if (context.kind !== "method" || context.static) {
    throw new TypeError(
      `App route decorators go on instance methods, not on ${String(context.name)}`,
    );
  }
  context.addInitializer(function (this: This) {
    add(this);
  });
}
