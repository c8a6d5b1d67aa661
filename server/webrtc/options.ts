/**
 * The options of a WebRTC endpoint (`app.webrtc(path, options)`) and their checks.
 *
 * @module
 */
import { DATA_CHANNEL_MAX_BYTES } from "../../internal/channel_frame.ts";
import type { IceServer } from "../../protocol.ts";
import type { WebRtcRoute } from "../routes.ts";
import type { VideoBitrate } from "./bitrate.ts";
import { iceFilter, type IcePolicy } from "./ice.ts";
import type { VideoHandler } from "./video.ts";
import type { SignalingFormat } from "./wire.ts";

/**
 * Options of a WebRTC endpoint: a DataChannel route, a video handler, or both.
 *
 * @example
 * ```ts
 * import { App, type WebRtcOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const options: WebRtcOptions = {
 *   endpoint: "/realtime", // the DataChannel serves this realtime route
 *   video: (frame) => frame, // each camera frame goes back as it came
 *   videoSize: { width: 320, height: 240 },
 *   maxFps: 15,
 *   iceCandidates: "private",
 * };
 * const app = new App().realtime("/realtime", {}, (input) => input).webrtc("/webrtc", options);
 * assert.ok(app.openapi().paths["/webrtc"]);
 * // Neither a route nor a video handler: nothing to serve.
 * assert.throws(() => app.webrtc("/empty", {}), TypeError);
 * ```
 */
export interface WebRtcOptions {
  /**
   * The path of an `app.realtime` route, registered before: its handler, schemas and options
   * serve the DataChannel the client opens.
   */
  endpoint?: string;
  /**
   * Transforms each frame of the client's video track; what it returns goes out on the peer's
   * outgoing video track. The newest frame wins when it is slower than the camera.
   */
  video?: VideoHandler;
  /** Frames are scaled to this size (nearest neighbour) before `video` sees them. */
  videoSize?: { width: number; height: number };
  /** At most this many frames a second go to `video`; the others are skipped. */
  maxFps?: number;
  /**
   * Video bitrate hints in kbps for both encoders (the client's and the server's): where they
   * start, and the least and most they use. libwebrtc starts near 300 kbps and drops frames
   * while bandwidth estimation ramps up; on a LAN or loopback `{ start: 2000, min: 1000 }`
   * avoids that. Default: none (libwebrtc's own).
   */
  videoBitrate?: VideoBitrate;
  /**
   * The format of the server's first message (`ready`): `"msgpack"` (default: rally's client,
   * fal's current demos) or `"json"` (fal's first demos). Replies then follow the client's
   * format; `?signaling=json` on the URL picks JSON for one session.
   */
  signaling?: SignalingFormat;
  /** STUN/TURN servers for the server's peer. Default none: host candidates only. */
  iceServers?: IceServer[];
  /**
   * The ICE candidates the server's peer checks and offers: `"any"` (default), `"loopback"`,
   * `"private"` (RFC 1918, CGNAT, link-local, ULA, loopback), or a list of addresses and CIDR
   * ranges. Every candidate a client names gets STUN packets from the server: restrict it on
   * servers that only meet clients on a known network, and keep signaling behind auth.
   */
  iceCandidates?: IcePolicy;
  /**
   * Largest input accepted over the DataChannel, in bytes (`MESSAGE_TOO_LARGE` past it), at most
   * 256 KiB, the DataChannel message limit. Default: the realtime route's, capped at 256 KiB.
   */
  maxMessageBytes?: number;
  /**
   * More configuration for the server's libwebrtc `RTCPeerConnection`, merged over rally's
   * (e.g. `portRange: { min, max }`, `iceTransportPolicy`).
   */
  peerConfig?: Record<string, unknown>;
}

/**
 * Resolve a WebRTC endpoint's options into a route, checking them.
 *
 * @param options The options as given.
 * @returns The route.
 * @throws {TypeError} without an `endpoint` path or a `video` handler, or for a bad policy.
 * @throws {RangeError} for a number out of range.
 */
export function webrtcRoute(options: WebRtcOptions): WebRtcRoute {
  const { endpoint, video, maxMessageBytes, videoSize, maxFps } = options ?? {};
  if (endpoint !== undefined && typeof endpoint !== "string") {
    throw new TypeError("webrtc(): `endpoint` must be the path of a realtime route");
  }
  if (video !== undefined && typeof video !== "function") {
    throw new TypeError("webrtc(): `video` must be a function (frame, ctx) => frame");
  }
  if (endpoint === undefined && video === undefined) {
    throw new TypeError(
      "webrtc() needs the path of a realtime route as `endpoint`, a `video` handler, or both",
    );
  }
  if (
    maxMessageBytes !== undefined &&
    !(maxMessageBytes > 0 && maxMessageBytes <= DATA_CHANNEL_MAX_BYTES)
  ) {
    throw new RangeError(
      `maxMessageBytes of a WebRTC endpoint must be between 1 and ${DATA_CHANNEL_MAX_BYTES} (256 KiB), got ${maxMessageBytes}`,
    );
  }
  if (
    videoSize !== undefined &&
    !([videoSize.width, videoSize.height].every((n) =>
      Number.isInteger(n) && n >= 2 && n % 2 === 0
    ))
  ) {
    throw new RangeError(
      `videoSize must be even whole numbers of pixels, got ${videoSize.width}x${videoSize.height}`,
    );
  }
  if (maxFps !== undefined && !(maxFps > 0)) {
    throw new RangeError(`maxFps must be above 0, got ${maxFps}`);
  }
  const signaling = options.signaling ?? "msgpack";
  if (signaling !== "msgpack" && signaling !== "json") {
    throw new TypeError(`signaling must be "msgpack" or "json", got ${JSON.stringify(signaling)}`);
  }
  return {
    endpoint,
    video,
    videoOptions: { size: videoSize, maxFps },
    videoBitrate: options.videoBitrate,
    signaling,
    iceServers: options.iceServers ?? [],
    iceFilter: iceFilter(options.iceCandidates),
    maxMessageBytes: maxMessageBytes ?? 0,
    peerConfig: options.peerConfig ?? {},
  };
}
