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
 */
export type PeerEventHandler = ((event: never) => void) | null | undefined;

/** What rally uses of an `RTCDataChannel` (the browser's, or libwebrtc's in Deno). */
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

/** A session description as peers exchange it. */
export interface SessionDescriptionLike {
  /** `"offer"` or `"answer"`. */
  type?: string;
  /** The SDP text. */
  sdp?: string;
}

/** An ICE candidate as sent on the signaling socket. */
export interface IceCandidateLike {
  /** The `candidate:` line. */
  candidate: string;
  /** The media section's id. */
  sdpMid?: string;
  /** The media section's index. */
  sdpMLineIndex?: number;
}

/** What rally uses of an `RTCPeerConnection` (the browser's, or libwebrtc's in Deno). */
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

/** An `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection`, or libwebrtc's in Deno. */
export type PeerConnectionConstructor = new (
  config: { iceServers?: IceServer[] } & Record<string, unknown>,
) => PeerConnectionLike;

/** A media track (a browser's `MediaStreamTrack`, or the native library's). */
export interface MediaTrackLike {
  /** `"video"` or `"audio"`. */
  readonly kind: string;
}

/** A media stream (a browser's `MediaStream`, e.g. a camera's or `canvas.captureStream()`). */
export interface MediaStreamLike {
  /**
   * Its tracks.
   *
   * @returns The tracks.
   */
  getTracks(): MediaTrackLike[];
}

/** The event of a track the server sends (`RTCTrackEvent`). */
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
