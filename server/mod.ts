/**
 * rally's server: an {@link App} of HTTP, SSE, realtime and raw WebSocket endpoints (built
 * with its builder methods, or as a subclass with decorated methods), and {@link serve} to host
 * it on `Deno.serve`.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { realtime, run } from "@rally/rally/client";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const Output = z.object({ output: z.string() });
 * const app = new App({ name: "echo" })
 *   .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
 *   .realtime("/realtime", { input: Input, output: Output }, (input) => ({ output: input.prompt }));
 *
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 * assert.deepEqual(await run(url, { input: { prompt: "hi" } }), { output: "hi" });
 * await using conn = await realtime(url);
 * conn.send({ prompt: "hi" });
 * assert.deepEqual(await conn.receive(), { output: "hi" });
 * ```
 *
 * @module
 */
export { App } from "./app.ts";
export type { AuthOptions } from "./middleware/auth.ts";
export {
  bundleClient,
  type BundleClientOptions,
  clientModule,
  type ClientModuleOptions,
} from "./client_module.ts";
export type { Context } from "./context.ts";
export type { CorsOptions } from "./middleware/cors.ts";
export { devLog, formatRecord } from "./dev_log.ts";
export type {
  EndpointDecorator,
  GetDecorator,
  RealtimeDecorator,
  RouteDecorator,
  StreamDecorator,
  WebSocketDecorator,
} from "./decorators.ts";
export type { GetHandler } from "./get.ts";
export type { EndpointHandler, EndpointOptions } from "./http.ts";
export type { LoggedError, LogLevel, LogOptions, LogRecord } from "./middleware/log.ts";
export type { FalProtocol, JsonSchema, OpenApiDocument } from "./openapi.ts";
export type { AppFields, AppOptions } from "./options.ts";
export type {
  RealtimeEndpointOptions,
  RealtimeHandler,
  RealtimeInput,
  RealtimeMode,
} from "./realtime.ts";
export type { RateLimit } from "./middleware/rate_limit.ts";
export type {
  DeclaredRoute,
  EndpointAdded,
  RealtimeAdded,
  RouteAdded,
  RouteShape,
  StreamAdded,
  WebSocketAdded,
} from "./route_typing.ts";
export type {
  EndpointType,
  RealtimeType,
  Routed,
  RoutesOf,
  RouteType,
  RouteTypes,
  StreamType,
  WebSocketType,
  WireInput,
  WireOutput,
} from "../route_types.ts";
export type { InferInput, InferOutput, Schema, SchemaProps, SchemaResult } from "./schema.ts";
export { serve, type ServeOptions, type Server } from "./serve.ts";
export type { StreamEndpointOptions, StreamHandler } from "./stream.ts";
export type { WebRtcOptions } from "./webrtc/options.ts";
export type { IcePolicy } from "./webrtc/ice.ts";
export type { SignalingFormat } from "./webrtc/wire.ts";
export type { VideoBitrate } from "./webrtc/bitrate.ts";
export type { VideoFrame, VideoHandler, VideoOutput } from "./webrtc/video.ts";
export type { WebSocketHandler, WebSocketOptions, WebSocketSession } from "./websocket.ts";
export {
  type ErrorCode,
  HttpError,
  type IceServer,
  type Issue,
  RealtimeError,
  type RealtimeErrorOptions,
  type WebSocketMessage,
} from "../protocol.ts";
