/**
 * rally's server: an {@link App} of HTTP, SSE, realtime and raw WebSocket endpoints (built
 * with its builder methods, or as a subclass with decorated methods), and {@link serve} to host
 * it on `Deno.serve`.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { z } from "zod";
 *
 * const Input = z.object({ prompt: z.string() });
 * const Output = z.object({ output: z.string() });
 * const app = new App({ name: "echo" })
 *   .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
 *   .realtime("/realtime", { input: Input, output: Output }, (input) => ({ output: input.prompt }));
 *
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false });
 * console.log(server.addr.port);
 * ```
 *
 * @module
 */
export { App } from "./app.ts";
export {
  type AuthOptions,
  DEFAULT_TOKEN_EXPIRATION,
  MAX_TOKEN_EXPIRATION,
} from "./middleware/auth.ts";
export type { Context } from "./context.ts";
export type { CorsOptions } from "./middleware/cors.ts";
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
export type { LogLevel, LogOptions, LogRecord } from "./middleware/log.ts";
export type { FalProtocol, JsonSchema, OpenApiDocument } from "./openapi.ts";
export { type AppOptions, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_QUEUE } from "./options.ts";
export {
  DEFAULT_MAX_PENDING_BYTES,
  type RealtimeHandler,
  type RealtimeInput,
  type RealtimeMode,
  type RealtimeOptions,
} from "./realtime.ts";
export type { RateLimit } from "./middleware/rate_limit.ts";
export type { In, Out, Schema, SchemaIssue, SchemaProps, SchemaResult } from "./schema.ts";
export { serve, type ServeOptions, type Server } from "./serve.ts";
export type { StreamHandler, StreamOptions } from "./stream.ts";
export type { IceServer, WebRtcOptions } from "./webrtc/signaling.ts";
export {
  type WebSocketHandler,
  type WebSocketMessage,
  type WebSocketOptions,
  WebSocketSession,
} from "./websocket.ts";
