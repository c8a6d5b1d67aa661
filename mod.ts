/**
 * rally: serve model-style apps over low-latency realtime endpoints with Deno.
 *
 * An {@link App} holds HTTP endpoints, realtime endpoints (msgpack over a persistent
 * WebSocket, many inputs and outputs on one connection), raw WebSocket endpoints and SSE
 * streaming endpoints, served by {@link serve}. The client ({@link realtime}, {@link wsConnect},
 * {@link run}, {@link stream}) shares the server's {@link Codec} and runs in Deno and in
 * browsers. The wire protocol is fal's, so fal's
 * own clients work against a rally server.
 *
 * @example
 * ```ts
 * import { App, realtime, serve } from "@rally/rally";
 * import { z } from "zod";
 *
 * const app = new App({ name: "echo" }).realtime(
 *   "/realtime",
 *   { input: z.object({ prompt: z.string() }), output: z.object({ output: z.string() }) },
 *   (input) => ({ output: input.prompt }),
 * );
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false });
 *
 * await using conn = await realtime(`http://127.0.0.1:${server.addr.port}`);
 * conn.send({ prompt: "Hello, world!" });
 * console.log(await conn.recv()); // { output: "Hello, world!" }
 * ```
 *
 * @module
 */
export * from "./server/mod.ts";
export {
  connect,
  type ConnectOptions,
  type DataChannelLike,
  fetchToken,
  type FetchTokenOptions,
  HttpError,
  type IceCandidateLike,
  type IceServerInit,
  type PeerConnectionConstructor,
  type PeerConnectionLike,
  type PeerEventHandler,
  realtime,
  type RealtimeConnection,
  type RealtimeHandle,
  type RealtimeOptions as RealtimeClientOptions,
  type ReconnectOptions,
  run,
  type RunOptions,
  type SessionDescriptionLike,
  type SocketOptions,
  stream,
  StreamError,
  type StreamOptions as StreamClientOptions,
  type TransportOptions,
  wsConnect,
  type WsConnection,
  type WsMessage,
} from "./client/mod.ts";
export * from "./codec.ts";
export * from "./protocol.ts";
