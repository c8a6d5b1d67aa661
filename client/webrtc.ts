/**
 * The WebRTC transport of the realtime clients (`transport: "webrtc"`): negotiate a peer over a
 * rally signaling WebSocket (`ready`, `offer`, `answer`, `icecandidate`, `error`, `dropped`),
 * open a DataChannel, and present it as the socket `realtime()` and `connect()` use, framing
 * binary messages as `[seq, payload]`; optionally send a video stream to the endpoint's `video`
 * handler and hand its returned track to `onTrack`. Uses `globalThis.RTCPeerConnection` in
 * browsers, or npm:@roamhq/wrtc's in Deno (loaded on first use, see {@link peerConnectionClass}).
 *
 * @module
 */
import { type IceServer, RealtimeError } from "../protocol.ts";
import { codec } from "./frames.ts";
import { ChannelSocket, closePeer } from "./channel_socket.ts";
import {
  type DataChannelLike,
  type IceCandidateLike,
  type MediaStreamLike,
  type MediaTrackLike,
  peerConnectionClass,
  type PeerConnectionConstructor,
  type PeerConnectionLike,
  type TrackEventLike,
} from "./peer.ts";
import { openSocket, type RealtimeSocket, type SocketOptions } from "./socket.ts";

/**
 * Options of the WebRTC transport, for `realtime()` and `connect()`.
 *
 * @example
 * ```ts
 * import type { TransportOptions } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // In a browser, RTCPeerConnection is the page's own; in Deno pass werift's.
 * const latestWins: TransportOptions = {
 *   transport: "webrtc",
 *   ordered: false, // unordered, no retransmits, stale outputs dropped
 *   iceServers: [{ urls: "stun:stun.example.com:3478" }],
 * };
 * assert.equal(latestWins.transport, "webrtc");
 * ```
 */
export interface TransportOptions {
  /**
   * `"websocket"` (default), or `"webrtc"`: the path is then a WebRTC signaling endpoint's
   * (`app.webrtc`), and inputs and outputs go over a DataChannel.
   */
  transport?: "websocket" | "webrtc";
  /**
   * WebRTC: a reliable, ordered channel (default `true`, a WebSocket's semantics), or `false`
   * for latest-wins: unordered, no retransmits, stale outputs dropped.
   */
  ordered?: boolean;
  /** WebRTC: STUN/TURN servers. Default none (host candidates only). */
  iceServers?: IceServer[];
  /**
   * WebRTC: the peer connection class. Default `globalThis.RTCPeerConnection` (browsers), or in
   * Deno npm:@roamhq/wrtc's (libwebrtc), imported on first use.
   */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** WebRTC: more configuration for the peer connection, merged over rally's. */
  rtcConfiguration?: Record<string, unknown>;
  /**
   * WebRTC: media to send to the endpoint's `video` handler: a `MediaStream` (a camera's, or
   * `canvas.captureStream()`), or one track (in Deno, an `RTCVideoSource`'s from
   * npm:@roamhq/wrtc's `nonstandard`).
   */
  video?: MediaStreamLike | MediaTrackLike;
  /**
   * WebRTC: called with each track the server sends (the `video` handler's output): in a
   * browser, `videoElement.srcObject = event.streams[0]`; in Deno, read it with an
   * `RTCVideoSink`.
   */
  onTrack?: (event: TrackEventLike) => void;
  /** WebRTC: called with the count of frames the server's `video` handler had to skip. */
  onDropped?: (count: number) => void;
}

/** How long connecting over WebRTC may take, in milliseconds. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Connect over WebRTC: open the signaling socket, negotiate a peer, and wait for the
 * DataChannel to open.
 *
 * @param url The signaling endpoint's `ws(s)://` URL.
 * @param options Auth, abort signal, and the WebRTC options.
 * @returns The DataChannel as a socket.
 * @throws {RealtimeError} `CONNECTION_CLOSED` when the signaling socket closes, the server
 * answers an error, the peer fails, or connecting is aborted or times out.
 * @throws {TypeError} when no `RTCPeerConnection` is available.
 */
export async function openDataChannel(
  url: URL,
  options: SocketOptions & TransportOptions = {},
): Promise<RealtimeSocket> {
  const Peer = await peerConnectionClass(options.RTCPeerConnection);
  const ws = await openSocket(url, options);
  const peer = new Peer({ iceServers: options.iceServers ?? [], ...options.rtcConfiguration });
  const media = options.video;
  if (media) {
    if (!peer.addTrack) throw new TypeError("this RTCPeerConnection cannot send media tracks");
    const tracks = "getTracks" in media ? media.getTracks() : [media];
    for (const track of tracks) {
      (peer.addTrack as (track: unknown, ...streams: unknown[]) => unknown)(
        track,
        ...("getTracks" in media ? [media] : []),
      );
    }
  }
  if (options.onTrack) {
    const onTrack = options.onTrack;
    peer.ontrack = ((event: TrackEventLike) => onTrack(event)) as PeerConnectionLike["ontrack"];
  }
  return new Negotiation(ws, peer, options).opened;
}

/** The offerer's side of one negotiation. */
class Negotiation {
  readonly opened: Promise<RealtimeSocket>;
  #ws: WebSocket;
  #peer: PeerConnectionLike;
  #options: TransportOptions & SocketOptions;
  #channel?: DataChannelLike;
  #work: Promise<void> = Promise.resolve();
  #offered = false;
  #localCandidates: unknown[] = [];
  #answered = false;
  #remoteCandidates: IceCandidateLike[] = [];
  #settled = false;
  #socket?: ChannelSocket;
  #resolve!: (socket: RealtimeSocket) => void;
  #reject!: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout>;

  constructor(ws: WebSocket, peer: PeerConnectionLike, options: TransportOptions & SocketOptions) {
    this.#ws = ws;
    this.#peer = peer;
    this.#options = options;
    this.opened = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => {
      if (this.#socket) return this.#socket.signalingClosed(event.code || 1006, event.reason);
      this.#fail(`the signaling socket closed with code ${event.code || 1006}`);
    };
    peer.onicecandidate = (event: { candidate?: IceCandidateLike | null }) => {
      const candidate = event.candidate;
      const message = {
        type: "icecandidate",
        candidate: candidate?.candidate
          ? {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? null,
            sdpMLineIndex: candidate.sdpMLineIndex ?? null,
          }
          : null,
      };
      if (this.#offered) this.#signal(message);
      else this.#localCandidates.push(message);
    };
    peer.onconnectionstatechange = () => {
      const state = peer.connectionState;
      if (state !== "failed" && state !== "closed") return;
      if (this.#socket) this.#socket.channelClosed();
      else this.#fail(`the peer connection ${state}`);
    };
    this.#timer = setTimeout(
      () => this.#fail(`no DataChannel opened within ${CONNECT_TIMEOUT_MS / 1000} s`),
      CONNECT_TIMEOUT_MS,
    );
    if (options.signal?.aborted) this.#onAbort();
    else options.signal?.addEventListener("abort", this.#onAbort);
  }

  #onAbort = (): void => {
    this.#fail("connecting was aborted", this.#options.signal?.reason);
  };

  #receive(data: ArrayBuffer | string): void {
    let message: Record<string, unknown>;
    try {
      // JSON text frames when the endpoint greets JSON clients first (`signaling: "json"`).
      message = (typeof data === "string" ? JSON.parse(data) : codec.decode(data)) as Record<
        string,
        unknown
      >;
    } catch {
      return;
    }
    const type = message?.type;
    if (type === "dropped" && typeof message.count === "number") {
      return this.#options.onDropped?.(message.count);
    }
    this.#work = this.#work.then(async () => {
      try {
        if (type === "ready") await this.#offer();
        else if (type === "answer") await this.#answer(message.sdp);
        else if (type === "icecandidate") await this.#candidate(message.candidate);
        else if (type === "error" && !this.#socket) {
          this.#fail(`the server refused: ${message.error}`);
        }
      } catch (error) {
        if (!this.#socket) this.#fail(`negotiation failed: ${(error as Error).message ?? error}`);
      }
    });
  }

  async #offer(): Promise<void> {
    if (this.#channel || this.#settled) return;
    const ordered = this.#options.ordered ?? true;
    const channel = this.#peer.createDataChannel(
      "rally",
      ordered ? { ordered: true } : { ordered: false, maxRetransmits: 0 },
    );
    this.#channel = channel;
    channel.binaryType = "arraybuffer";
    channel.onopen = () => this.#open(channel, !ordered);
    await this.#peer.setLocalDescription(await this.#peer.createOffer());
    this.#signal({ type: "offer", sdp: this.#peer.localDescription?.sdp });
    this.#offered = true;
    for (const message of this.#localCandidates.splice(0)) this.#signal(message);
  }

  async #answer(sdp: unknown): Promise<void> {
    if (typeof sdp !== "string") throw new TypeError("the answer has no sdp");
    await this.#peer.setRemoteDescription({ type: "answer", sdp });
    this.#answered = true;
    for (const candidate of this.#remoteCandidates.splice(0)) {
      await this.#peer.addIceCandidate(candidate);
    }
  }

  async #candidate(value: unknown): Promise<void> {
    const init = value as { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown } | null;
    if (typeof init?.candidate !== "string" || init.candidate === "") return;
    const candidate: IceCandidateLike = { candidate: init.candidate };
    if (typeof init.sdpMid === "string") candidate.sdpMid = init.sdpMid;
    if (typeof init.sdpMLineIndex === "number") candidate.sdpMLineIndex = init.sdpMLineIndex;
    if (this.#answered) await this.#peer.addIceCandidate(candidate);
    else this.#remoteCandidates.push(candidate);
  }

  #open(channel: DataChannelLike, latestWins: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#socket = new ChannelSocket(this.#ws, this.#peer, channel, latestWins);
    this.#resolve(this.#socket);
  }

  #signal(message: unknown): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(codec.encode(message));
  }

  /** Give up before the channel opened: close everything, then reject. */
  async #fail(reason: string, cause?: unknown): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#channel?.close();
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    if (this.#ws.readyState < WebSocket.CLOSING) this.#ws.close();
    await closePeer(this.#peer);
    this.#reject(new RealtimeError("CONNECTION_CLOSED", `WebRTC: ${reason}`, { cause }));
  }
}
