/**
 * Realtime endpoints: options, handler types, and the upgrade into a {@link RealtimeSession}.
 *
 * @module
 */
import { type Context, createContext, type Host } from "./context.ts";
import { returnLargeBuffers } from "./memory.ts";
import { RealtimeSession } from "./realtime_session.ts";
import type { RealtimeRoute } from "./routes.ts";
import { checkNumber } from "./options.ts";
import type { InferInput, InferOutput, Schema } from "./schema.ts";
import { upgrade } from "./upgrade.ts";
import type { RealtimeMode } from "../route_types.ts";

export type { RealtimeMode };

/**
 * Options of a realtime endpoint.
 *
 * @example
 * ```ts
 * import { App, realtime, type RealtimeEndpointOptions, serve } from "@rally/rally";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const options: RealtimeEndpointOptions<typeof Input, undefined, undefined> = {
 *   input: Input,
 *   buffering: 2, // keep the 2 newest pending inputs
 *   sessionTimeout: 60, // seconds without input before TIMEOUT
 * };
 * const app = new App().realtime("/realtime", options, (input) => ({ output: input.prompt }));
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn = await realtime(url);
 * conn.send({ prompt: "hi" });
 * assert.deepEqual(await conn.receive(), { output: "hi" });
 * ```
 */
export interface RealtimeEndpointOptions<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
  M extends RealtimeMode = "unary",
> {
  /** Schema of one input; failures get `INVALID_INPUT` with `issues`. */
  input?: I;
  /** Schema of one output; failures get `INTERNAL_ERROR`. */
  output?: O;
  /** How inputs map to outputs. Default `"unary"`. */
  mode?: M;
  /** Largest frame accepted, in bytes (`MESSAGE_TOO_LARGE` past it). Default: the App's. */
  maxMessageBytes?: number;
  /** Most pending inputs; a new one past it drops the oldest. Default: unbounded (fal's). */
  buffering?: number;
  /** Most pending bytes; a new input past it drops the oldest. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Unary only: when over 1, the handler always gets an array of 1..maxBatchSize inputs. */
  maxBatchSize?: B;
  /** Seconds without input (and nothing pending) before the session ends with `TIMEOUT`. */
  sessionTimeout?: number;
  /** Send the `hello` meta frame with the session's limits on open. Default true. */
  hello?: boolean;
  /** Send a `timings` meta frame (handler seconds) after each output. Default false. */
  emitTimings?: boolean;
  /**
   * Send a `ping` meta frame after this many seconds with nothing sent (up to a quarter more: frames
   * are counted, not timed); 0 turns it off. Default 15.
   */
  heartbeat?: number;
  /** Seconds Deno waits for a silent peer to answer its pings before closing it. Default 30. */
  idleTimeout?: number;
}

/**
 * A realtime handler's input: one input, or an array of them when `maxBatchSize` is over 1.
 *
 * @example
 * ```ts
 * import { App, realtime, type RealtimeInput, serve } from "@rally/rally";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ n: z.number() });
 * // With maxBatchSize over 1 the handler gets an array of inputs:
 * const sum = (inputs: RealtimeInput<typeof Input, 8>) => ({ sum: inputs.reduce((s, i) => s + i.n, 0) });
 * const app = new App().realtime("/batch", { input: Input, maxBatchSize: 8 }, sum);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn = await realtime(url, { path: "/batch" });
 * conn.send({ n: 2 });
 * assert.deepEqual(await conn.receive(), { sum: 2 }); // a batch of one: nothing else waited
 * ```
 */
export type RealtimeInput<I extends Schema | undefined, B extends number | undefined> = [B] extends
  [undefined | 1] ? InferOutput<I> : InferOutput<I>[];

/**
 * A realtime endpoint's handler, typed by its mode.
 *
 * @example
 * ```ts
 * import { App, realtime, type RealtimeHandler, serve } from "@rally/rally";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ n: z.number() });
 * // client_streaming: read every input until the client ends them, answer once.
 * const total: RealtimeHandler<typeof Input, undefined, undefined, "client_streaming"> = async (
 *   inputs,
 * ) => {
 *   let sum = 0;
 *   for await (const input of inputs) sum += input.n;
 *   return { sum };
 * };
 * const app = new App().realtime("/total", { input: Input, mode: "client_streaming" }, total);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn = await realtime(url, { path: "/total" });
 * conn.send({ n: 1 });
 * conn.send({ n: 2 });
 * conn.end();
 * assert.deepEqual(await conn.receive(), { sum: 3 });
 * ```
 */
export type RealtimeHandler<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
  M extends RealtimeMode = "unary",
> = M extends "server_streaming"
  ? (input: InferOutput<I>, ctx: Context) => AsyncIterable<InferInput<O>>
  : M extends "client_streaming" ? (
      inputs: AsyncIterable<InferOutput<I>>,
      ctx: Context,
    ) => InferInput<O> | Promise<InferInput<O>>
  : M extends "bidi"
    ? (inputs: AsyncIterable<InferOutput<I>>, ctx: Context) => AsyncIterable<InferInput<O>>
  : (input: RealtimeInput<I, B>, ctx: Context) => InferInput<O> | Promise<InferInput<O>>;

/** Pending bytes by default: 64 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * Resolve a realtime endpoint's options into a route, checking them.
 *
 * @param path The route's path, for error messages.
 * @param options The options as given.
 * @param handler The handler.
 * @returns The route (`maxMessageBytes` 0 means "the App's").
 * @throws {RangeError} for an option out of range.
 */
export function realtimeRoute(
  path: string,
  options: RealtimeEndpointOptions<
    Schema | undefined,
    Schema | undefined,
    number | undefined,
    RealtimeMode
  >,
  handler: RealtimeRoute["handler"],
): RealtimeRoute {
  const { buffering, maxBatchSize = 1, sessionTimeout, mode = "unary", heartbeat = 15 } = options;
  const action = `add the realtime route ${path}`;
  checkNumber(action, "buffering", buffering, { min: 1, integer: true });
  checkNumber(action, "maxBatchSize", maxBatchSize, { min: 1, integer: true });
  if (maxBatchSize > 1 && mode !== "unary") {
    throw new RangeError(
      `Cannot ${action}: maxBatchSize goes with mode "unary" only, received mode "${mode}"`,
    );
  }
  checkNumber(action, "sessionTimeout", sessionTimeout, { above: 0, unit: "seconds" });
  checkNumber(action, "heartbeat", heartbeat, { min: 0, unit: "seconds (0: off)" });
  checkNumber(action, "idleTimeout", options.idleTimeout, { min: 0, unit: "seconds" });
  checkNumber(action, "maxPendingBytes", options.maxPendingBytes, {
    min: 1,
    integer: true,
    unit: "bytes",
  });
  return {
    input: options.input,
    output: options.output,
    mode,
    maxMessageBytes: options.maxMessageBytes ?? 0,
    buffering: buffering ?? Infinity,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    maxBatchSize,
    sessionTimeout: sessionTimeout ?? Infinity,
    hello: options.hello ?? true,
    emitTimings: options.emitTimings ?? false,
    heartbeat,
    idleTimeout: options.idleTimeout ?? 30,
    handler,
  };
}

/** The most pending inputs a client may ask for with the `max_buffering` query parameter. */
const MAX_REQUESTED_BUFFERING = 60;

/**
 * The pending-input bound of a session: the client's `max_buffering` query parameter (1..60,
 * rounded down) when it asks for fewer than the endpoint's `buffering`, else the endpoint's. A
 * missing, malformed or out-of-range value is ignored: the endpoint's bound holds.
 *
 * @param request The upgrade request, whose URL may carry `max_buffering`.
 * @param buffering The endpoint's `buffering`.
 * @returns The session's bound, never over `buffering`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestedBuffering } from "./realtime.ts";
 *
 * const ask = (query: string) => new Request(`http://127.0.0.1/rt${query}`);
 * assert.equal(requestedBuffering(ask("?max_buffering=3"), 10), 3);
 * assert.equal(requestedBuffering(ask("?max_buffering=99"), 10), 10);
 * assert.equal(requestedBuffering(ask("?max_buffering=99"), Infinity), 60);
 * assert.equal(requestedBuffering(ask("?max_buffering=nope"), 10), 10);
 * assert.equal(requestedBuffering(ask(""), 10), 10);
 * ```
 */
export function requestedBuffering(request: Request, buffering: number): number {
  const wish = Number(new URL(request.url).searchParams.get("max_buffering"));
  return wish >= 1
    ? Math.min(buffering, Math.min(MAX_REQUESTED_BUFFERING, Math.floor(wish)))
    : buffering;
}

/**
 * Upgrade a request to a realtime session.
 *
 * @param route The endpoint.
 * @param request The upgrade request (checked to have `Upgrade: websocket`).
 * @param host The App serving it.
 * @returns The 101 response.
 */
export function acceptRealtime(route: RealtimeRoute, request: Request, host: Host): Response {
  const buffering = requestedBuffering(request, route.buffering);
  // Made before the upgrade, which closes the request: the context reads its headers now.
  const abort = new AbortController();
  const ctx = createContext(request, abort.signal);
  const { socket, response } = upgrade(request, {
    idleTimeout: route.idleTimeout,
    firstMessageTimeout: host.firstMessageTimeout,
    kind: "realtime",
  });
  returnLargeBuffers(); // once per process: large frames' memory goes back to the OS when freed
  // A copy only when the client asked for less buffering: an idle session's memory counts.
  const session = buffering === route.buffering ? route : { ...route, buffering };
  new RealtimeSession(socket, session, ctx, abort, host);
  return response;
}
