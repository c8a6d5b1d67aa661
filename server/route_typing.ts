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
} from "../route_types.ts";

/** A schema, or `unknown` for none. */
type Given<S> = [S] extends [undefined] ? unknown : S;

/** What a handler returns, awaited. */
type Returned<H> = H extends (...args: never[]) => infer R ? Awaited<R> : unknown;

/** What a handler yields (an async iterable or an iterable of it). */
type Yielded<H> = H extends (...args: never[]) => infer R
  ? R extends AsyncIterable<infer X> | Iterable<infer X> ? X : unknown
  : unknown;

/** One route at one path, or nothing when the path is only known as `string`. */
type At<P extends string, T extends RouteType> = string extends P ? Routed<Record<never, never>>
  : Routed<{ [K in P]: T }>;

/**
 * The route type an HTTP endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler returns.
 * @typeParam H The handler.
 */
export type EndpointAdded<P extends string, I, O, H> = At<
  P,
  EndpointType<Given<I>, [O] extends [undefined] ? Returned<H> : O>
>;

/**
 * The route type an SSE endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler yields.
 * @typeParam H The handler.
 */
export type StreamAdded<P extends string, I, O, H> = At<
  P,
  StreamType<Given<I>, [O] extends [undefined] ? Yielded<H> : O>
>;

/**
 * The route type a realtime endpoint adds to its App's type.
 *
 * @typeParam P The path.
 * @typeParam I The input schema, if any.
 * @typeParam O The output schema, if any; without one, what the handler returns or yields.
 * @typeParam M The mode.
 * @typeParam H The handler.
 */
export type RealtimeAdded<P extends string, I, O, M extends RealtimeMode, H> = At<
  P,
  RealtimeType<
    Given<I>,
    [O] extends [undefined] ? M extends "server_streaming" | "bidi" ? Yielded<H> : Returned<H>
      : O,
    M
  >
>;

/**
 * The route type a raw WebSocket endpoint adds to its App's type.
 *
 * @typeParam P The path.
 */
export type WebSocketAdded<P extends string> = At<P, WebSocketType>;
