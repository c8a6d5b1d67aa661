/**
 * rally's client: {@link realtime} (script form) and {@link connect} (callback form, with
 * throttling and reconnects, for browsers) for realtime endpoints, {@link wsConnect} for raw
 * WebSockets, {@link run} for HTTP endpoints, {@link stream} for SSE streaming endpoints.
 * Browser-safe: no `Deno.*` anywhere.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { realtime, run, wsConnect } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App()
 *   .endpoint("/", {}, (input) => input)
 *   .realtime("/realtime", {}, (input) => input)
 *   .websocket("/echo", async (socket) => socket.send(await socket.receiveText()));
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * await using conn = await realtime(url, { path: "/realtime" });
 * conn.send({ prompt: "Hello, world!" });
 * assert.deepEqual(await conn.receive(), { prompt: "Hello, world!" });
 *
 * await using ws = await wsConnect(url, { path: "/echo" });
 * ws.send("Hello, world!");
 * assert.equal(await ws.receive(), "Hello, world!");
 *
 * assert.deepEqual(await run(url, { path: "/", input: { prompt: "hi" } }), { prompt: "hi" });
 * ```
 *
 * @module
 */
export {
  connect,
  type ConnectOptions,
  type RealtimeHandle,
  type ReconnectOptions,
} from "./connect.ts";
export { run, type RunOptions } from "./http.ts";
export { realtime, type RealtimeClientOptions, type RealtimeConnection } from "./realtime.ts";
export type { SocketOptions } from "./socket.ts";
export { stream, type StreamClientOptions, StreamError } from "./stream.ts";
export { fetchToken, type FetchTokenOptions } from "./token.ts";
export { wsConnect, type WsConnection } from "./websocket.ts";
export type { TransportOptions } from "./webrtc.ts";
export type {
  DataChannelLike,
  IceCandidateLike,
  MediaStreamLike,
  MediaTrackLike,
  PeerConnectionConstructor,
  PeerConnectionLike,
  PeerEventHandler,
  SessionDescriptionLike,
  TrackEventLike,
} from "./peer.ts";
export {
  type ErrorCode,
  HttpError,
  type IceServer,
  type Issue,
  RealtimeError,
  type RealtimeErrorOptions,
  type WebSocketMessage,
} from "../protocol.ts";
export {
  client,
  type ClientOptions,
  type InputArgs,
  type InputAt,
  type OutputAt,
  type PathsOf,
  type RouteAt,
  type TypedClient,
  type TypedConnection,
  type Untyped,
  type UntypedRoutes,
} from "./typed.ts";
export type {
  EndpointType,
  RealtimeMode,
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
