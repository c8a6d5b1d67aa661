/**
 * What rally's client uses of a WebRTC stack: the parts of `RTCPeerConnection` and
 * `RTCDataChannel` it calls, typed loosely enough that the browser's classes and a Deno
 * library's both fit.
 *
 * @module
 */
import type { IceServer } from "../protocol.ts";

/**
 * An event handler slot of a peer or channel. Its event's type differs between browsers and
 * werift, so the slot takes any handler (`never`); rally's handlers read the fields they need.
 */
export type PeerEventHandler = ((event: never) => void) | null | undefined;

/** What rally uses of an `RTCDataChannel` (the browser's, or werift's). */
export interface DataChannelLike {
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued to send. */
  readonly bufferedAmount: number;
  /** Set to `"arraybuffer"` (browsers; werift delivers `Buffer`s). */
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

/** What rally uses of an `RTCPeerConnection` (the browser's, or werift's). */
export interface PeerConnectionLike {
  /** `"new"`, `"connecting"`, `"connected"`, `"disconnected"`, `"failed"` or `"closed"`. */
  readonly connectionState: string;
  /** The local description, once set. */
  readonly localDescription: SessionDescriptionLike | null;
  /** Called with each local candidate (`event.candidate`, empty at the end). */
  onicecandidate: PeerEventHandler;
  /** Called when `connectionState` changes. */
  onconnectionstatechange: PeerEventHandler;
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
   * @returns Nothing, or (werift) a promise of the close.
   */
  close(): unknown;
}

/** An `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection`, or werift's. */
export type PeerConnectionConstructor = new (
  config: { iceServers?: IceServer[] } & Record<string, unknown>,
) => PeerConnectionLike;
