/**
 * The route shapes: each endpoint kind as the App keeps it once its options are resolved, and
 * the route table's entry. Every endpoint module reads its own shape from here, so none of them
 * imports another for its types.
 *
 * @module
 */
import type { Context } from "./context.ts";
import type { RealtimeMode } from "./realtime.ts";
import type { WebSocketHandler } from "./websocket.ts";
import type { GetHandler } from "./get.ts";
import type { IceServer } from "../protocol.ts";
import type { Schema } from "./schema.ts";
import type { VideoBitrate } from "./webrtc/bitrate.ts";
import type { IceFilter } from "./webrtc/ice.ts";
import type { VideoHandler, VideoOptions } from "./webrtc/video.ts";
import type { SignalingFormat } from "./webrtc/wire.ts";

/** An HTTP endpoint as the App keeps it. */
export interface EndpointRoute {
  /** Input and output schemas. */
  input?: Schema;
  /** Output schema. */
  output?: Schema;
  /** Body cap in bytes. */
  maxMessageBytes: number;
  /** The handler. */
  handler: (input: unknown, ctx: Context) => unknown;
}

/** An SSE endpoint as the App keeps it. */
export interface StreamRoute {
  /** Input schema. */
  input?: Schema;
  /** Output schema, applied to each output. */
  output?: Schema;
  /** Body cap in bytes. */
  maxMessageBytes: number;
  /** The handler. */
  handler: (input: unknown, ctx: Context) => AsyncIterable<unknown> | Iterable<unknown>;
}

/** A realtime endpoint as the App keeps it, its options resolved. */
export interface RealtimeRoute {
  /** Input schema. */
  input?: Schema;
  /** Output schema. */
  output?: Schema;
  /** The mode. */
  mode: RealtimeMode;
  /** Frame cap in bytes. */
  maxMessageBytes: number;
  /** Pending-count bound (`Infinity` when unbounded). */
  buffering: number;
  /** Pending-bytes bound. */
  maxPendingBytes: number;
  /** Batch size; over 1, the handler gets arrays. */
  maxBatchSize: number;
  /** Idle timeout in seconds (`Infinity`: none). */
  sessionTimeout: number;
  /** Whether `hello` is sent. */
  hello: boolean;
  /** Whether `timings` are sent. */
  emitTimings: boolean;
  /** Ping interval in seconds (0: none). */
  heartbeat: number;
  /** Deno's idle timeout for silent peers, in seconds. */
  idleTimeout: number;
  /** The handler. */
  handler: (input: unknown, ctx: Context) => unknown;
}

/** A raw WebSocket endpoint as the App keeps it. */
export interface WebSocketRoute {
  /** Frame cap in bytes. */
  maxMessageBytes: number;
  /** Unread-bytes cap. */
  maxPendingBytes: number;
  /** The handler. */
  handler: WebSocketHandler;
}

/** A GET route as the App keeps it. */
export interface GetRoute {
  /** The handler. */
  handler: GetHandler;
}

/** A WebRTC endpoint as the App keeps it, its options resolved. */
export interface WebRtcRoute {
  /** The realtime route's path, if any. */
  endpoint?: string;
  /** The video handler, if any. */
  video?: VideoHandler;
  /** Size and frame-rate cap of the video path. */
  videoOptions: VideoOptions;
  /** Bitrate hints, if any. */
  videoBitrate?: VideoBitrate;
  /** The format of `ready`. */
  signaling: SignalingFormat;
  /** STUN/TURN servers. */
  iceServers: IceServer[];
  /** Which candidates may be used; `undefined` for any. */
  iceFilter?: IceFilter;
  /** Input cap in bytes; 0 means "the realtime route's, capped at 256 KiB". */
  maxMessageBytes: number;
  /** Extra peer configuration. */
  peerConfig: Record<string, unknown>;
}

/** One entry of an App's route table. */
export type Route =
  | { kind: "endpoint"; path: string; route: EndpointRoute }
  | { kind: "stream"; path: string; route: StreamRoute }
  | { kind: "realtime"; path: string; route: RealtimeRoute }
  | { kind: "websocket"; path: string; route: WebSocketRoute }
  | { kind: "webrtc"; path: string; route: WebRtcRoute }
  | { kind: "get"; path: string; route: GetRoute };
