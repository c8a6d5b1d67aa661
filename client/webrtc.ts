/**
 * The WebRTC transport of the realtime clients (`transport: "webrtc"`): negotiate a peer over a
 * rally signaling WebSocket (msgpack frames: `ready`, `offer`, `answer`, `icecandidate`,
 * `error`), open a DataChannel, and present it as the socket `realtime()` and `connect()` use,
 * framing binary messages as `[seq, payload]`. Uses `globalThis.RTCPeerConnection` in browsers,
 * or a constructor passed in the options (werift's in Deno). Browser-safe; never imports werift.
 *
 * @module
 */
import { DATA_CHANNEL_MAX_BYTES } from "../internal/channel_frame.ts";
import { RealtimeError } from "../protocol.ts";
import { codec } from "./frames.ts";
import { ChannelSocket, closePeer } from "./channel_socket.ts";
import { openSocket, type RealtimeSocket, type SocketOptions } from "./socket.ts";

/** A STUN or TURN server, as in `RTCConfiguration.iceServers`. */
export interface IceServerInit {
  /** `stun:` or `turn:` URL(s). */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

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
  config: { iceServers?: IceServerInit[] } & Record<string, unknown>,
) => PeerConnectionLike;

/** Options of the WebRTC transport, for `realtime()` and `connect()`. */
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
  iceServers?: IceServerInit[];
  /**
   * WebRTC: the peer connection class. Default `globalThis.RTCPeerConnection` (browsers); in
   * Deno pass werift's (`import { RTCPeerConnection } from "npm:werift"`).
   */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** WebRTC: more configuration for the peer connection, merged over rally's. */
  rtcConfiguration?: Record<string, unknown>;
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
  const Peer = options.RTCPeerConnection ??
    (globalThis as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
  if (!Peer) {
    throw new TypeError(
      'transport "webrtc" needs RTCPeerConnection: pass options.RTCPeerConnection (werift\'s in Deno)',
    );
  }
  const ws = await openSocket(url, options);
  const peer = new Peer({
    iceServers: options.iceServers ?? [],
    // werift advertises 64 KiB unless told; browsers ignore the member.
    maxMessageSize: DATA_CHANNEL_MAX_BYTES,
    ...options.rtcConfiguration,
  });
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
    if (typeof data === "string") return; // not a signaling message
    let message: Record<string, unknown>;
    try {
      message = codec.decode(data) as Record<string, unknown>;
    } catch {
      return;
    }
    const type = message?.type;
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
