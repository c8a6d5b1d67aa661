/**
 * The WebRTC transport of the realtime clients (`transport: "webrtc"`): negotiate a peer over a
 * rally signaling WebSocket (msgpack frames: `ready`, `offer`, `answer`, `icecandidate`,
 * `error`), open a DataChannel, and present it as the socket `realtime()` and `connect()` use,
 * framing binary messages as `[seq, payload]`. Uses `globalThis.RTCPeerConnection` in browsers,
 * or a constructor passed in the options (werift's in Deno). Browser-safe; never imports werift.
 *
 * @module
 */
import {
  DATA_CHANNEL_MAX_BYTES,
  headerSize,
  readFrameHeader,
  writeFrameHeader,
} from "../channel_frame.ts";
import { RealtimeError } from "../protocol.ts";
import { codec } from "./frames.ts";
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
 * After one of the signaling socket and the DataChannel closes, how long to wait for the other
 * (for the close code, or for the channel's last messages), in milliseconds.
 */
const CLOSE_GRACE_MS = 250;

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

/** An open DataChannel as a {@link RealtimeSocket}, with its peer and signaling socket. */
class ChannelSocket implements RealtimeSocket {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  #ws: WebSocket;
  #peer: PeerConnectionLike;
  #channel: DataChannelLike;
  #latestWins: boolean;
  #readyState = 1;
  #nextSeq = 0;
  #lastSeq = -1;
  #messageListeners: ((event: MessageEvent) => void)[] = [];
  #closeListeners: ((event: CloseEvent) => void)[] = [];
  #closeCode?: { code: number; reason: string };
  #channelGone = false;
  #timer?: ReturnType<typeof setTimeout>;

  constructor(
    ws: WebSocket,
    peer: PeerConnectionLike,
    channel: DataChannelLike,
    latestWins: boolean,
  ) {
    this.#ws = ws;
    this.#peer = peer;
    this.#channel = channel;
    this.#latestWins = latestWins;
    channel.onmessage = (event: { data: ArrayBuffer | Uint8Array | string }) =>
      this.#receive(event.data);
    channel.onclose = () => this.channelClosed();
  }

  get readyState(): number {
    return this.#readyState;
  }

  get bufferedAmount(): number {
    return this.#channel.bufferedAmount;
  }

  send(data: string | Uint8Array): void {
    if (this.#readyState !== 1) return;
    if (typeof data === "string") return this.#channel.send(data);
    const seq = this.#nextSeq;
    const size = headerSize(seq) + data.length;
    if (size > DATA_CHANNEL_MAX_BYTES) {
      throw new RealtimeError(
        "MESSAGE_TOO_LARGE",
        `input of ${data.length} bytes is over the DataChannel limit of ${DATA_CHANNEL_MAX_BYTES} (framing included)`,
      );
    }
    const message = new Uint8Array(size);
    message.set(data, writeFrameHeader(message, seq));
    this.#channel.send(message);
    this.#nextSeq = seq + 1;
  }

  close(code = 1000, reason = ""): void {
    if (this.#readyState >= 2) return;
    this.#readyState = 2;
    this.#closeCode = { code, reason };
    this.#finish();
  }

  addEventListener(
    type: "message" | "close",
    listener: ((event: MessageEvent) => void) | ((event: CloseEvent) => void),
    options?: { once?: boolean },
  ): void {
    if (type === "message") {
      this.#messageListeners.push(listener as (event: MessageEvent) => void);
      return;
    }
    const onClose = listener as (event: CloseEvent) => void;
    this.#closeListeners.push(
      options?.once
        ? (event) => {
          this.#closeListeners = this.#closeListeners.filter((other) => other !== onClose);
          onClose(event);
        }
        : onClose,
    );
  }

  /** The signaling socket closed: the code to report; the channel's last messages may follow. */
  signalingClosed(code: number, reason: string): void {
    if (this.#readyState === 3) return;
    this.#readyState = 2;
    this.#closeCode ??= { code, reason };
    if (this.#channelGone) return void this.#finish();
    this.#timer ??= setTimeout(() => this.#finish(), CLOSE_GRACE_MS);
  }

  /** The channel closed or the peer failed: wait a little for the signaling socket's code. */
  channelClosed(): void {
    if (this.#channelGone || this.#readyState === 3) return;
    this.#channelGone = true;
    this.#readyState = 2;
    if (this.#closeCode) return void this.#finish();
    this.#timer ??= setTimeout(() => this.#finish(), CLOSE_GRACE_MS);
  }

  /** Close the channel, the signaling socket and the peer; then report the close. */
  async #finish(): Promise<void> {
    if (this.#readyState === 3) return;
    this.#readyState = 3;
    clearTimeout(this.#timer);
    this.#channel.onmessage = null;
    const { code, reason } = this.#closeCode ?? { code: 1006, reason: "the DataChannel closed" };
    const ws = this.#ws;
    const wsClosed = ws.readyState === WebSocket.CLOSED
      ? Promise.resolve()
      : new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
    if (this.#channel.readyState === "open") this.#channel.close();
    // A client may send 1000 or 3000-4999 only.
    const sendable = code === 1000 || (code >= 3000 && code <= 4999);
    if (ws.readyState < WebSocket.CLOSING) ws.close(sendable ? code : 1000, reason);
    await Promise.all([closePeer(this.#peer), within(wsClosed, 1_000)]);
    const event = new CloseEvent("close", { code, reason, wasClean: code !== 1006 });
    this.onclose?.(event);
    for (const listener of [...this.#closeListeners]) listener(event);
  }

  #receive(data: ArrayBuffer | Uint8Array | string): void {
    if (this.#readyState === 3) return;
    if (typeof data === "string") return this.#emit(data);
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const header = readFrameHeader(bytes);
    if (!header) return; // not rally's framing: dropped
    if (this.#latestWins) {
      if (header.seq <= this.#lastSeq) return; // older than one already shown
      this.#lastSeq = header.seq;
    }
    this.#emit(bytes.subarray(header.start));
  }

  #emit(data: Uint8Array | string): void {
    const event = new MessageEvent("message", { data });
    this.onmessage?.(event);
    for (const listener of this.#messageListeners) listener(event);
  }
}

/** Wait for `promise`, or `ms` at most. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Close a peer (werift's close is async), waiting 2 s at most. */
function closePeer(peer: PeerConnectionLike): Promise<void> {
  let closing: Promise<void>;
  try {
    closing = Promise.resolve(peer.close()).then(() => {}, () => {});
  } catch {
    closing = Promise.resolve();
  }
  return within(closing, 2_000);
}
