/**
 * rally's client: {@link realtime} (script form) and {@link connect} (callback form, with
 * throttling and reconnects, for browsers) for realtime endpoints, {@link wsConnect} for raw
 * WebSockets, {@link run} for HTTP endpoints, {@link stream} for SSE streaming endpoints.
 * Browser-safe: no `Deno.*` anywhere.
 *
 * @example
 * ```ts
 * import { realtime, run, wsConnect } from "@rally/rally/client";
 *
 * await using conn = await realtime("http://127.0.0.1:8000", { path: "/realtime" });
 * conn.send({ prompt: "Hello, world!" });
 * console.log(await conn.recv());
 *
 * await using ws = await wsConnect("http://127.0.0.1:8000", { path: "/echo" });
 * ws.send("Hello, world!");
 * console.log(await ws.recv());
 *
 * console.log(await run("http://127.0.0.1:8000", { path: "/", input: { prompt: "hi" } }));
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
export { HttpError, run, type RunOptions } from "./http.ts";
export { realtime, type RealtimeConnection, type RealtimeOptions } from "./realtime.ts";
export type { SocketOptions } from "./socket.ts";
export { stream, StreamError, type StreamOptions } from "./stream.ts";
export { fetchToken, type FetchTokenOptions } from "./token.ts";
export { wsConnect, type WsConnection, type WsMessage } from "./websocket.ts";
export type {
  DataChannelLike,
  IceCandidateLike,
  IceServerInit,
  PeerConnectionConstructor,
  PeerConnectionLike,
  PeerEventHandler,
  SessionDescriptionLike,
  TransportOptions,
} from "./webrtc.ts";
export { RealtimeError } from "../protocol.ts";
