/**
 * An open WebRTC DataChannel presented as the socket the realtime clients use: binary messages
 * framed as `[seq, payload]` (latest-wins channels drop outputs older than one already shown),
 * text messages as they are, and one close that ends the channel, the signaling socket and the
 * peer. Browser-safe.
 *
 * @module
 */
import { ChannelBuffer } from "../internal/channel_buffer.ts";
import { ChannelFrames, DATA_CHANNEL_MAX_BYTES } from "../internal/channel_frame.ts";
import { RealtimeError } from "../protocol.ts";
import { CLOSE_WAIT_MS, closedWithin, within } from "../internal/within.ts";
import type { RealtimeSocket } from "./socket.ts";
import type { DataChannelLike, PeerConnectionLike } from "./peer.ts";

/**
 * After one of the signaling socket and the DataChannel closes, how long to wait for the other
 * (for the close code, or for the channel's last messages), in milliseconds.
 */
const CLOSE_GRACE_MS = 250;

/** An open DataChannel as a {@link RealtimeSocket}, with its peer and signaling socket. */
export class ChannelSocket implements RealtimeSocket {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  #ws: WebSocket;
  #peer: PeerConnectionLike;
  #channel: DataChannelLike;
  #buffer: ChannelBuffer;
  #frames: ChannelFrames;
  #readyState = 1;
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
    this.#buffer = new ChannelBuffer(channel);
    this.#frames = new ChannelFrames(latestWins);
    channel.onmessage = (event: { data: ArrayBuffer | Uint8Array | string }) =>
      this.#receive(event.data);
    channel.onclose = () => this.channelClosed();
  }

  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes queued on the channel, or an upper bound of them under 16 KiB. */
  get bufferedAmount(): number {
    return this.#buffer.amount();
  }

  send(data: string | Uint8Array<ArrayBuffer>): void {
    if (this.#readyState !== 1) return;
    const message = typeof data === "string" ? data : this.#frames.wrap(data);
    if (message === undefined) {
      throw new RealtimeError(
        "MESSAGE_TOO_LARGE",
        `input of ${data.length} bytes is over the DataChannel limit of ${DATA_CHANNEL_MAX_BYTES} (framing included)`,
      );
    }
    try {
      this.#channel.send(message);
    } catch (error) {
      // Closed before its close event reached us (asked only now: in libwebrtc each read of the
      // channel's state is a call into its thread).
      if (this.#channel.readyState !== "open") return;
      throw error;
    }
    this.#buffer.sent(typeof message === "string" ? message.length * 3 : message.length);
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
    const wsClosed = closedWithin(ws, CLOSE_WAIT_MS);
    if (this.#channel.readyState === "open") this.#channel.close();
    // A client may send 1000 or 3000-4999 only.
    const sendable = code === 1000 || (code >= 3000 && code <= 4999);
    if (ws.readyState < WebSocket.CLOSING) ws.close(sendable ? code : 1000, reason);
    await Promise.all([closePeer(this.#peer), wsClosed]);
    const event = new CloseEvent("close", { code, reason, wasClean: code !== 1006 });
    this.onclose?.(event);
    for (const listener of [...this.#closeListeners]) listener(event);
  }

  #receive(data: ArrayBuffer | Uint8Array | string): void {
    if (this.#readyState === 3) return;
    if (typeof data === "string") return this.#emit(data);
    const payload = this.#frames.unwrap(data instanceof Uint8Array ? data : new Uint8Array(data));
    // Not rally's framing, or older than an output already shown: dropped.
    if (typeof payload !== "string") this.#emit(payload);
  }

  #emit(data: Uint8Array | string): void {
    const event = new MessageEvent("message", { data });
    this.onmessage?.(event);
    for (const listener of this.#messageListeners) listener(event);
  }
}

/** Close a peer (a close may be async), waiting 2 s at most. */
export function closePeer(peer: PeerConnectionLike): Promise<void> {
  let closing: Promise<void>;
  try {
    closing = Promise.resolve(peer.close()).then(() => {}, () => {});
  } catch {
    closing = Promise.resolve();
  }
  return within(closing, 2_000);
}
