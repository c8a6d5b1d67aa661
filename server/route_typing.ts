/**
 * What each builder method adds to an App's type: the route's type as a client sees it (its
 * path, input, output and mode), computed from the schemas, or from the handler when a route
 * has no output schema. The typed client reads them back (`client<typeof app>(url)`).
 *
 * @module
 */
import type {
  EndpointType,
  RealtimeMode,
  RealtimeType,
  Routed,
  RouteType,
  StreamType,
  WebSocketType,
  WireInput,
  WireOutput,
} from "../route_types.ts";

/**
 * What adding one route at a path adds to an App's type: nothing when the path is only known as
 * `string`.
 *
 * @typeParam P The path.
 * @typeParam T The route's type.
 *
 * @example
 * ```ts
 * import type { EndpointType, RouteAdded } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * type Added = RouteAdded<"/", EndpointType<{ prompt: string }, { output: string }>>;
 * const routes: NonNullable<Added["~routes"]> = {
 *   "/": { kind: "endpoint", input: { prompt: "hi" }, output: { output: "hi" } },
 * };
 * assert.equal(routes["/"].kind, "endpoint");
 * ```
 */
export type RouteAdded<P extends string, T extends RouteType> = string extends P
  ? Routed<Record<never, never>>
  : Routed<{ [K in P]: T }>;

/**
 * The route type an HTTP endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler returns.
 * @typeParam H The handler.
 *
 * @example
 * ```ts
 * import type { EndpointAdded } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // No output schema: the output type is what the handler returns.
 * type Added = EndpointAdded<"/", undefined, undefined, () => Promise<{ ok: boolean }>>;
 * const output: NonNullable<Added["~routes"]>["/"]["output"] = { ok: true };
 * assert.equal(output.ok, true);
 * ```
 */
export type EndpointAdded<P extends string, I, O, H> = RouteAdded<
  P,
  EndpointType<
    [I] extends [undefined] ? unknown : I,
    [O] extends [undefined] ? H extends (...args: never[]) => infer R ? Awaited<R> : unknown : O
  >
>;

/**
 * The route type an SSE endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler yields.
 * @typeParam H The handler.
 *
 * @example
 * ```ts
 * import type { StreamAdded } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // No output schema: one output is what the handler yields.
 * type Added = StreamAdded<"/events", undefined, undefined, () => AsyncIterable<{ n: number }>>;
 * const event: NonNullable<Added["~routes"]>["/events"]["output"] = { n: 1 };
 * assert.equal(event.n, 1);
 * ```
 */
export type StreamAdded<P extends string, I, O, H> = RouteAdded<
  P,
  StreamType<
    [I] extends [undefined] ? unknown : I,
    [O] extends [undefined]
      ? H extends (...args: never[]) => AsyncIterable<infer X> | Iterable<infer X> ? X : unknown
      : O
  >
>;

/**
 * The route type a realtime endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler returns or yields.
 * @typeParam M The mode.
 * @typeParam H The handler.
 *
 * @example
 * ```ts
 * import type { RealtimeAdded } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * type Added = RealtimeAdded<"/live", undefined, undefined, "unary", () => { output: string }>;
 * const route: NonNullable<Added["~routes"]>["/live"] = {
 *   kind: "realtime",
 *   input: "anything",
 *   output: { output: "hi" },
 *   mode: "unary",
 * };
 * assert.equal(route.mode, "unary");
 * ```
 */
export type RealtimeAdded<P extends string, I, O, M extends RealtimeMode, H> = RouteAdded<
  P,
  RealtimeType<
    [I] extends [undefined] ? unknown : I,
    [O] extends [undefined]
      ? M extends "server_streaming" | "bidi"
        ? H extends (...args: never[]) => AsyncIterable<infer X> ? X : unknown
      : H extends (...args: never[]) => infer R ? Awaited<R>
      : unknown
      : O,
    M
  >
>;

/**
 * The route type a raw WebSocket endpoint adds to its App's type.
 *
 * @typeParam P The path.
 *
 * @example
 * ```ts
 * import type { WebSocketAdded } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const routes: NonNullable<WebSocketAdded<"/ws">["~routes"]> = { "/ws": { kind: "websocket" } };
 * assert.equal(routes["/ws"].kind, "websocket");
 * ```
 */
export type WebSocketAdded<P extends string> = RouteAdded<P, WebSocketType>;

/**
 * What a decorator's route must be declared as: its kind, and the wire types of the schemas it
 * was given (a route without a schema is not checked there).
 *
 * @typeParam K The kind of route.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any.
 *
 * @example
 * ```ts
 * import type { RouteShape } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const shape: RouteShape<"endpoint", typeof Input, undefined> = {
 *   kind: "endpoint",
 *   input: { prompt: "hi" },
 * };
 * assert.equal(shape.input.prompt, "hi");
 * ```
 */
export type RouteShape<K extends RouteType["kind"], I, O> =
  & { readonly kind: K }
  & ([I] extends [undefined] ? unknown : { readonly input: WireInput<I> })
  & ([O] extends [undefined] ? unknown : { readonly output: WireOutput<O> });

/**
 * `unknown` when an App subclass declares no route types, or declares the route at `P` as `T`;
 * else an object naming the mismatch, which the decorator's context does not have: the
 * decorator then fails to compile, with that name in the message.
 *
 * @typeParam This The App subclass.
 * @typeParam P The route's path.
 * @typeParam T What the declaration must match.
 *
 * @example
 * ```ts
 * import type { App, DeclaredRoute, EndpointType } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * type Declared = App<{ "/": EndpointType<unknown, { ok: boolean }> }>;
 * // Declared as required: `unknown`, which every decorator context matches.
 * const matches: DeclaredRoute<Declared, "/", { readonly kind: "endpoint" }> = "fine";
 * // Not declared: an object naming the mismatch.
 * const missing: DeclaredRoute<Declared, "/other", { readonly kind: "endpoint" }> = {
 *   "route not declared in App<...>": "/other",
 * };
 * assert.equal(matches, "fine");
 * assert.equal(missing["route not declared in App<...>"], "/other");
 * ```
 */
export type DeclaredRoute<This, P extends string, T> = string extends P ? unknown
  : This extends { readonly "~routes"?: infer R } ? [keyof NonNullable<R>] extends [never] ? unknown
    : P extends keyof NonNullable<R> ? NonNullable<R>[P] extends T ? unknown
      : { readonly "route declared otherwise in App<...>": P }
    : { readonly "route not declared in App<...>": P }
  : unknown;
