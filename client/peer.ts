/**
 * What rally's WebRTC client uses of a peer connection, a DataChannel and media tracks, as
 * structural types: the browser's objects fit them, and so do npm:@roamhq/wrtc's (libwebrtc),
 * which the client loads lazily as its default peer in Deno. Browser-safe: the native library is
 * imported by a specifier that bundlers leave alone, and only when no `RTCPeerConnection` exists.
 *
 * @module
 */
import type { IceServer } from "../protocol.ts";

/**
 * An event handler slot of a peer or channel. Its event's type differs between browsers and
 * libwebrtc, so the slot takes any handler (`never`); rally's handlers read the fields they need.
 *
 * @example
 * ```ts
 * import type { PeerEventHandler } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const onmessage = (event: { data: string }) => void seen.push(event.data);
 * const slot: PeerEventHandler = onmessage; // any handler fits the slot
 * onmessage({ data: "hi" });
 * assert.equal(slot, onmessage);
 * assert.deepEqual(seen, ["hi"]);
 * ```
 */
export type PeerEventHandler = ((event: never) => void) | null | undefined;

/**
 * What rally uses of an `RTCDataChannel` (the browser's, or libwebrtc's in Deno).
 *
 * @example
 * ```ts
 * import type { DataChannelLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // A channel that keeps what it is sent (a browser's RTCDataChannel fits the type too).
 * const sent: (string | Uint8Array)[] = [];
 * const channel: DataChannelLike = {
 *   readyState: "open",
 *   bufferedAmount: 0,
 *   send: (data) => void sent.push(data),
 *   close() {},
 * };
 * channel.send("hi");
 * assert.deepEqual(sent, ["hi"]);
 * ```
 */
export interface DataChannelLike {
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued to send. */
  readonly bufferedAmount: number;
  /** Set to `"arraybuffer"` (binary messages then arrive as `ArrayBuffer`s). */
  binaryType?: string;
  /** Called once open. */
  onopen?: PeerEventHandler;
  /** Called once closed. */
  onclose?: PeerEventHandler;
  /** Called with each message (`event.data`). */
  onmessage?: PeerEventHandler;
  /**
   * Send one message.
   *
   * @param data Text or bytes.
   */
  send(data: string | Uint8Array): void;
  /** Close the channel. */
  close(): void;
}

/**
 * A session description as peers exchange it.
 *
 * @example
 * ```ts
 * import type { SessionDescriptionLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const offer: SessionDescriptionLike = { type: "offer", sdp: "v=0\r\n" };
 * assert.equal(offer.type, "offer");
 * ```
 */
export interface SessionDescriptionLike {
  /** `"offer"` or `"answer"`. */
  type?: string;
  /** The SDP text. */
  sdp?: string;
}

/**
 * An ICE candidate as sent on the signaling socket.
 *
 * @example
 * ```ts
 * import type { IceCandidateLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const candidate: IceCandidateLike = {
 *   candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
 *   sdpMid: "0",
 *   sdpMLineIndex: 0,
 * };
 * assert.ok(candidate.candidate.startsWith("candidate:"));
 * ```
 */
export interface IceCandidateLike {
  /** The `candidate:` line. */
  candidate: string;
  /** The media section's id. */
  sdpMid?: string;
  /** The media section's index. */
  sdpMLineIndex?: number;
}

/**
 * What rally uses of an `RTCPeerConnection` (the browser's, or libwebrtc's in Deno).
 *
 * @example
 * ```ts
 * import type {
 *   DataChannelLike,
 *   PeerConnectionLike,
 *   SessionDescriptionLike,
 * } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // What rally reads of a peer, shown on a stand-in that records the offer it makes.
 * const channel: DataChannelLike = {
 *   readyState: "connecting",
 *   bufferedAmount: 0,
 *   send() {},
 *   close() {},
 * };
 * let local: SessionDescriptionLike | null = null;
 * const peer: PeerConnectionLike = {
 *   connectionState: "new",
 *   get localDescription() {
 *     return local;
 *   },
 *   onicecandidate: null,
 *   onconnectionstatechange: null,
 *   createDataChannel: () => channel,
 *   createOffer: () => Promise.resolve({ type: "offer", sdp: "v=0\r\n" }),
 *   async setLocalDescription(description) {
 *     local = description;
 *   },
 *   setRemoteDescription: () => Promise.resolve(),
 *   addIceCandidate: () => Promise.resolve(),
 *   close() {},
 * };
 * await peer.setLocalDescription(await peer.createOffer());
 * assert.equal(peer.localDescription?.type, "offer");
 * ```
 */
export interface PeerConnectionLike {
  /** `"new"`, `"connecting"`, `"connected"`, `"disconnected"`, `"failed"` or `"closed"`. */
  readonly connectionState: string;
  /** The local description, once set. */
  readonly localDescription: SessionDescriptionLike | null;
  /** Called with each local candidate (`event.candidate`, empty at the end). */
  onicecandidate: PeerEventHandler;
  /** Called when `connectionState` changes. */
  onconnectionstatechange: PeerEventHandler;
  /** Called with each track the server sends. */
  ontrack?: PeerEventHandler;
  /**
   * Send a media track.
   *
   * @param track The track.
   * @param streams The streams it belongs to (browsers).
   * @returns Its sender.
   */
  addTrack?(track: never, ...streams: never[]): unknown;
  /**
   * Make a DataChannel.
   *
   * @param label Its label.
   * @param init `ordered`, `maxRetransmits`.
   * @returns The channel.
   */
  createDataChannel(
    label: string,
    init?: { ordered?: boolean; maxRetransmits?: number },
  ): DataChannelLike;
  /**
   * Make an offer.
   *
   * @returns The offer.
   */
  createOffer(): Promise<SessionDescriptionLike>;
  /**
   * Set the local description.
   *
   * @param description The offer.
   * @returns When set.
   */
  setLocalDescription(description: SessionDescriptionLike): Promise<unknown>;
  /**
   * Set the remote description.
   *
   * @param description The answer.
   * @returns When set.
   */
  setRemoteDescription(description: { type: "answer"; sdp: string }): Promise<unknown>;
  /**
   * Add a remote candidate.
   *
   * @param candidate The candidate.
   * @returns When added.
   */
  addIceCandidate(candidate: IceCandidateLike): Promise<unknown>;
  /**
   * Close the peer.
   *
   * @returns Nothing (or a promise of the close).
   */
  close(): unknown;
}

/**
 * An `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection`, or libwebrtc's in Deno.
 *
 * @example
 * ```ts
 * import type { PeerConnectionConstructor, PeerConnectionLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // `globalThis.RTCPeerConnection` in a browser; here a stand-in class that keeps its config.
 * const configs: unknown[] = [];
 * const Peer: PeerConnectionConstructor = class implements PeerConnectionLike {
 *   connectionState = "new";
 *   localDescription = null;
 *   onicecandidate = null;
 *   onconnectionstatechange = null;
 *   constructor(config: unknown) {
 *     configs.push(config);
 *   }
 *   createDataChannel(): never {
 *     throw new Error("not in this example");
 *   }
 *   createOffer = () => Promise.resolve({ type: "offer", sdp: "v=0\r\n" });
 *   setLocalDescription = () => Promise.resolve();
 *   setRemoteDescription = () => Promise.resolve();
 *   addIceCandidate = () => Promise.resolve();
 *   close() {}
 * };
 * const peer = new Peer({ iceServers: [{ urls: "stun:stun.example.com:3478" }] });
 * assert.equal(peer.connectionState, "new");
 * assert.deepEqual(configs, [{ iceServers: [{ urls: "stun:stun.example.com:3478" }] }]);
 * ```
 */
export type PeerConnectionConstructor = new (
  config: { iceServers?: IceServer[] } & Record<string, unknown>,
) => PeerConnectionLike;

/**
 * A media track (a browser's `MediaStreamTrack`, or the native library's).
 *
 * @example
 * ```ts
 * import type { MediaTrackLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const track: MediaTrackLike = { kind: "video" };
 * assert.equal(track.kind, "video");
 * ```
 */
export interface MediaTrackLike {
  /** `"video"` or `"audio"`. */
  readonly kind: string;
}

/**
 * A media stream (a browser's `MediaStream`, e.g. a camera's or `canvas.captureStream()`).
 *
 * @example
 * ```ts
 * import type { MediaStreamLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // A browser's camera stream fits; so does anything with getTracks().
 * const stream: MediaStreamLike = { getTracks: () => [{ kind: "video" }] };
 * assert.deepEqual(stream.getTracks().map((track) => track.kind), ["video"]);
 * ```
 */
export interface MediaStreamLike {
  /**
   * Its tracks.
   *
   * @returns The tracks.
   */
  getTracks(): MediaTrackLike[];
}

/**
 * The event of a track the server sends (`RTCTrackEvent`).
 *
 * @example
 * ```ts
 * import type { TrackEventLike } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const event: TrackEventLike = { track: { kind: "video" }, streams: [] };
 * assert.equal(event.track.kind, "video");
 * ```
 */
export interface TrackEventLike {
  /** The track. */
  readonly track: MediaTrackLike;
  /** The streams it belongs to (set `video.srcObject = event.streams[0]` in a browser). */
  readonly streams: readonly unknown[];
}

/** The npm package the Deno client loads as its default peer. */
const NATIVE_PEER = "npm:@roamhq/wrtc@0.10.0";

/**
 * The peer connection class: the one given, else `globalThis.RTCPeerConnection` (browsers), else
 * (Deno) npm:@roamhq/wrtc's, imported on first use.
 *
 * @param given The class passed in the options, if any.
 * @returns The class.
 * @throws {TypeError} when none is available.
 */
export async function peerConnectionClass(
  given?: PeerConnectionConstructor,
): Promise<PeerConnectionConstructor> {
  const found = given ??
    (globalThis as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
  if (found) return found;
  if ("Deno" in globalThis) {
    // A specifier in a variable: bundlers for browsers leave the import alone.
    const specifier = NATIVE_PEER;
    const module = await import(specifier);
    return (module.default ?? module).RTCPeerConnection;
  }
  throw new TypeError(
    'transport "webrtc" needs RTCPeerConnection: none here; pass options.RTCPeerConnection',
  );
}
