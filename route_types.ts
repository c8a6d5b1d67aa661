/**
 * The types of an App's routes as a client sees them: for each path, its kind, the input a
 * client sends, the output it gets back and, for realtime routes, the streaming mode. An `App`
 * records them in its type as routes are added (`App<Routes>`); the typed client
 * (`client<typeof app>(url)`) reads them. Types only: nothing here exists at run time, so a
 * browser page that imports an App's type with `import type` bundles no server code.
 *
 * @example
 * ```ts
 * import type { EndpointType, RealtimeType, RouteTypes } from "@rally/rally/client";
 *
 * type Routes = {
 *   "/": EndpointType<{ prompt: string }, { output: string }>;
 *   "/live": RealtimeType<{ prompt: string }, { output: string }, "bidi">;
 * };
 * const routes: RouteTypes = {} as Routes;
 * ```
 *
 * @module
 */

/**
 * How a realtime session maps inputs to outputs (fal's four modes):
 * - `unary`: one output per input (or per batch);
 * - `server_streaming`: one input, then every item the handler yields, then the session ends;
 * - `client_streaming`: the handler reads all inputs (until the client's end message, an idle
 *   `sessionTimeout` or disconnect) and returns one output, then the session ends;
 * - `bidi`: the handler reads inputs and yields outputs; the session ends with its iterator.
 *
 * @example
 * ```ts
 * import type { RealtimeMode } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const modes: RealtimeMode[] = ["unary", "server_streaming", "client_streaming", "bidi"];
 * assert.equal(modes.length, 4);
 * ```
 */
export type RealtimeMode = "unary" | "server_streaming" | "client_streaming" | "bidi";

/**
 * What a client sends for a schema or a type: a Standard Schema's input type (what it takes
 * before it validates), or the type itself when it is no schema.
 *
 * @typeParam S A Standard Schema, or a plain type.
 *
 * @example
 * ```ts
 * import type { WireInput } from "@rally/rally/client";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ steps: z.string().transform(Number) });
 * const input: WireInput<typeof schema> = { steps: "4" }; // what the client sends: a string
 * assert.equal(schema.parse(input).steps, 4);
 * ```
 */
export type WireInput<S> = S extends { readonly "~standard": { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly input: infer I } ? I : unknown
  : S;

/**
 * What a client gets for a schema or a type: a Standard Schema's output type (what it gives
 * once it has validated), or the type itself when it is no schema.
 *
 * @typeParam S A Standard Schema, or a plain type.
 *
 * @example
 * ```ts
 * import type { WireOutput } from "@rally/rally/client";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ steps: z.string().transform(Number) });
 * const output: WireOutput<typeof schema> = schema.parse({ steps: "4" }); // a number once parsed
 * assert.equal(output.steps, 4);
 * ```
 */
export type WireOutput<S> = S extends { readonly "~standard": { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly output: infer O } ? O : unknown
  : S;

/**
 * An HTTP endpoint (`POST path`) as a client sees it.
 *
 * @typeParam In The input: a Standard Schema (its input type is sent) or a type.
 * @typeParam Out The output: a Standard Schema (its output type comes back) or a type.
 *
 * @example
 * ```ts
 * import type { EndpointType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const route: EndpointType<{ prompt: string }, { output: string }> = {
 *   kind: "endpoint",
 *   input: { prompt: "hi" },
 *   output: { output: "HI" },
 * };
 * assert.equal(route.output.output, route.input.prompt.toUpperCase());
 * ```
 */
export interface EndpointType<In = unknown, Out = unknown> {
  /** The kind of route. */
  readonly kind: "endpoint";
  /** What the client sends. */
  readonly input: WireInput<In>;
  /** What the client gets. */
  readonly output: WireOutput<Out>;
}

/**
 * An SSE streaming endpoint as a client sees it.
 *
 * @typeParam In The input: a Standard Schema (its input type is sent) or a type.
 * @typeParam Out One output: a Standard Schema (its output type comes back) or a type.
 *
 * @example
 * ```ts
 * import type { StreamType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const route: StreamType<{ count: number }, { index: number }> = {
 *   kind: "stream",
 *   input: { count: 3 },
 *   output: { index: 0 },
 * };
 * assert.equal(route.kind, "stream");
 * ```
 */
export interface StreamType<In = unknown, Out = unknown> {
  /** The kind of route. */
  readonly kind: "stream";
  /** What the client sends. */
  readonly input: WireInput<In>;
  /** What each event carries. */
  readonly output: WireOutput<Out>;
}

/**
 * A realtime endpoint as a client sees it.
 *
 * @typeParam In One input: a Standard Schema (its input type is sent) or a type.
 * @typeParam Out One output: a Standard Schema (its output type comes back) or a type.
 * @typeParam M The streaming mode: `end()` exists on the client only for `client_streaming`
 * and `bidi`.
 *
 * @example
 * ```ts
 * import type { RealtimeType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const route: RealtimeType<{ prompt: string }, { output: string }, "bidi"> = {
 *   kind: "realtime",
 *   input: { prompt: "hi" },
 *   output: { output: "hi" },
 *   mode: "bidi",
 * };
 * assert.equal(route.mode, "bidi");
 * ```
 */
export interface RealtimeType<In = unknown, Out = unknown, M extends RealtimeMode = "unary"> {
  /** The kind of route. */
  readonly kind: "realtime";
  /** What the client sends, one per frame. */
  readonly input: WireInput<In>;
  /** What the client gets, one per frame. */
  readonly output: WireOutput<Out>;
  /** The streaming mode. */
  readonly mode: M;
}

/**
 * A raw WebSocket endpoint as a client sees it: text and bytes both ways.
 *
 * @example
 * ```ts
 * import type { WebSocketType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const route: WebSocketType = { kind: "websocket" };
 * assert.equal(route.kind, "websocket");
 * ```
 */
export interface WebSocketType {
  /** The kind of route. */
  readonly kind: "websocket";
}

/**
 * One route as a client sees it.
 *
 * @example
 * ```ts
 * import type { RouteType } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const routes: RouteType[] = [
 *   { kind: "endpoint", input: {}, output: {} },
 *   { kind: "realtime", input: {}, output: {}, mode: "server_streaming" },
 *   { kind: "websocket" },
 * ];
 * assert.deepEqual(routes.map((route) => route.kind), ["endpoint", "realtime", "websocket"]);
 * ```
 */
export type RouteType =
  | EndpointType<unknown, unknown>
  | StreamType<unknown, unknown>
  | RealtimeType<unknown, unknown, RealtimeMode>
  | WebSocketType;

/**
 * An App's routes as a client sees them, by path.
 *
 * @example
 * ```ts
 * import type { RouteTypes } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const routes: RouteTypes = {
 *   "/": { kind: "endpoint", input: { prompt: "hi" }, output: { output: "hi" } },
 *   "/ws": { kind: "websocket" },
 * };
 * assert.deepEqual(Object.keys(routes), ["/", "/ws"]);
 * ```
 */
export type RouteTypes = { readonly [path: string]: RouteType };

/**
 * What an App's type carries: its route types, in a property that exists in the type only.
 *
 * @typeParam R The route types.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import type { EndpointType, Routed } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * // The App's type carries its routes; nothing is set at run time.
 * const routed: Routed<{ "/": EndpointType<unknown, { ok: boolean }> }> = app;
 * assert.equal(routed["~routes"], undefined);
 * ```
 */
export interface Routed<R extends RouteTypes> {
  /** The route types (type-level only: never set at run time). */
  readonly "~routes"?: R;
}

/**
 * The route types of an App's type (`typeof app`), or the route types themselves.
 *
 * @typeParam A An App's type, or route types.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import type { RoutesOf } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * type Routes = RoutesOf<typeof app>;
 * const output: Routes["/"]["output"] = { ok: true };
 * assert.equal(output.ok, true);
 * ```
 */
export type RoutesOf<A> = A extends { readonly "~routes"?: infer R }
  ? R extends RouteTypes ? R : never
  : A extends RouteTypes ? A
  : never;
