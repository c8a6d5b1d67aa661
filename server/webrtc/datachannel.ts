/**
 * A WebRTC DataChannel presented as the socket a {@link RealtimeSession} runs on: binary
 * messages framed as `[seq, payload]` (the payload's bytes handed over and taken as they are),
 * text messages passed through as control frames, stale inputs skipped on a latest-wins
 * (unordered or partially reliable) channel, and the session's close turned into the teardown of
 * the channel, the peer connection and the signaling socket.
 *
 * @module
 */
import { ChannelBuffer } from "../../internal/channel_buffer.ts";
import { ChannelFrames, DATA_CHANNEL_MAX_BYTES } from "../../internal/channel_frame.ts";
import { errorFrame, RealtimeError } from "../../protocol.ts";
import type { SessionSocket } from "../context.ts";

/** What libwebrtc reports for an unset partial-reliability member. */
const UNSET = 65535;

/** Above this many unsent bytes on the channel, malformed messages are not answered. */
const REFUSAL_HIGH_WATER_BYTES = 64 * 1024;

/** What rally uses of a DataChannel (libwebrtc's, on the server). */
export interface Channel {
  /** Whether messages arrive in the order they were sent. */
  readonly ordered: boolean;
  /** Retransmits before a message is given up, or `null` when reliable. */
  readonly maxRetransmits: number | null;
  /** Milliseconds before a message is given up, or `null` when reliable. */
  readonly maxPacketLifeTime: number | null;
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued to send. */
  readonly bufferedAmount: number;
  /** Called once open. */
  onopen?: (() => void) | null;
  /** Called once closed. */
  onclose?: (() => void) | null;
  /** Called with each message (an `ArrayBuffer` for binary). */
  onmessage?: ((event: { data: string | ArrayBuffer | Uint8Array }) => void) | null;
  /**
   * Send one message.
   *
   * @param data Text, or bytes.
   */
  send(data: Uint8Array | string): void;
  /** Close the channel. */
  close(): void;
}

/**
 * Whether a channel is latest-wins: unordered, or partially reliable (`maxRetransmits` or
 * `maxPacketLifeTime` set).
 *
 * @param channel The channel.
 * @returns Whether stale inputs are skipped and the session keeps one pending input.
 */
export function isLatestWins(channel: Channel): boolean {
  return !channel.ordered || isSet(channel.maxRetransmits) || isSet(channel.maxPacketLifeTime);
}

/** libwebrtc reports an unset `maxRetransmits` or `maxPacketLifeTime` as 65535, not `null`. */
function isSet(value: number | null): boolean {
  return value !== null && value !== UNSET;
}

/**
 * A DataChannel as a {@link SessionSocket}. It opens once {@link DataChannelSocket.attach} gets
 * an open channel; its `close()` runs the teardown it was made with, then reports the close.
 */
export class DataChannelSocket implements SessionSocket {
  /** Unused: binary messages are always handed over as bytes. */
  binaryType: BinaryType = "arraybuffer";
  /** Called once the channel is open. */
  onopen: ((event: Event) => void) | null = null;
  /** Called with each input's payload bytes (a view), or a text message. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  /** Called once closed. */
  onclose: ((event: CloseEvent) => void) | null = null;
  #readyState = 0;
  #channel?: Channel;
  #buffer?: ChannelBuffer;
  #frames = new ChannelFrames(false);
  #closeListeners = new Set<(event: CloseEvent) => void>();
  #teardown: (code: number, reason: string) => Promise<void>;

  /**
   * Make the socket, not open yet.
   *
   * @param teardown Closes the channel, the peer and the signaling socket with the session's
   * close code; the socket reports its close once this has settled.
   */
  constructor(teardown: (code: number, reason: string) => Promise<void>) {
    this.#teardown = teardown;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed (`WebSocket`'s numbers). */
  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes queued on the channel, or an upper bound of them under 16 KiB. */
  get bufferedAmount(): number {
    return this.#buffer?.amount() ?? 0;
  }

  /**
   * Start serving an open channel: fires `onopen`.
   *
   * @param channel The DataChannel, open.
   */
  attach(channel: Channel): void {
    if (this.#readyState !== 0) return;
    this.#channel = channel;
    this.#buffer = new ChannelBuffer(channel);
    this.#frames = new ChannelFrames(isLatestWins(channel));
    channel.onmessage = (event) => this.#receive(event.data);
    this.#readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /**
   * Send one message: text as it is, bytes framed as `[seq, payload]`.
   *
   * @param data A control frame, or an output's msgpack bytes.
   * @throws {RealtimeError} `INTERNAL_ERROR` when the framed output is over the DataChannel's
   * limit (the session answers it with an error frame).
   */
  send(data: string | Uint8Array): void {
    const channel = this.#channel;
    if (this.#readyState !== 1 || !channel) return;
    const message = typeof data === "string" ? data : this.#frames.wrap(data);
    if (message === undefined) {
      throw new RealtimeError(
        "INTERNAL_ERROR",
        `output of ${data.length} bytes is over the DataChannel limit of ${DATA_CHANNEL_MAX_BYTES}`,
      );
    }
    try {
      channel.send(message);
    } catch (error) {
      // The client may have closed the channel before its close event has reached us (asked
      // only now: each read of the channel's state is a call into libwebrtc's thread).
      if (channel.readyState !== "open") return;
      if (typeof data === "string") throw error;
      // libwebrtc refuses messages over the peer's advertised max-message-size.
      throw new RealtimeError("INTERNAL_ERROR", `the output could not be sent (${error})`);
    }
    this.#buffer!.sent(typeof message === "string" ? message.length * 3 : message.length);
  }

  /**
   * Close: tear down the channel, the peer and the signaling socket (which carries `code`), then
   * report the close.
   *
   * @param code The close code, sent on the signaling socket.
   * @param reason The close reason.
   */
  close(code = 1000, reason = ""): void {
    if (this.#readyState >= 2) return;
    this.#readyState = 2;
    this.#teardown(code, reason).catch(() => {}).finally(() => this.closed(code, reason));
  }

  /**
   * Report the close (once): the channel, the peer or the signaling socket has gone.
   *
   * @param code The close code to report.
   * @param reason The close reason.
   */
  closed(code: number, reason: string): void {
    if (this.#readyState === 3) return;
    this.#readyState = 3;
    if (this.#channel) this.#channel.onmessage = undefined;
    const event = new CloseEvent("close", { code, reason, wasClean: code !== 1006 });
    this.onclose?.(event);
    for (const listener of [...this.#closeListeners]) listener(event);
  }

  /**
   * Listen for the close.
   *
   * @param _type `"close"`.
   * @param listener Called once closed.
   */
  addEventListener(_type: "close", listener: (event: CloseEvent) => void): void {
    this.#closeListeners.add(listener);
  }

  /**
   * Stop listening for the close.
   *
   * @param _type `"close"`.
   * @param listener As given to `addEventListener`.
   */
  removeEventListener(_type: "close", listener: (event: CloseEvent) => void): void {
    this.#closeListeners.delete(listener);
  }

  #receive(data: string | Uint8Array | ArrayBuffer): void {
    if (this.#readyState !== 1) return;
    if (typeof data === "string") return this.#deliver(data);
    const payload = this.#frames.unwrap(data instanceof Uint8Array ? data : new Uint8Array(data));
    if (payload === "malformed") {
      // Not an input at all: answered at once (not in its turn), and the session serves on. A
      // client that does not read gets no more such replies once the channel holds 64 KiB.
      if (this.bufferedAmount > REFUSAL_HIGH_WATER_BYTES) return;
      this.send(errorFrame(
        "INVALID_INPUT",
        "Cannot decode realtime message: a DataChannel message must be a msgpack array [seq, payload]",
      ));
      return;
    }
    if (payload !== "stale") this.#deliver(payload);
  }

  #deliver(data: string | Uint8Array): void {
    this.onmessage?.(new MessageEvent("message", { data }));
  }
}
