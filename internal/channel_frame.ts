/**
 * The framing of realtime messages over a WebRTC DataChannel, shared by rally's server and
 * client: each binary message is a msgpack array `[seq, payload]`, where `seq` counts the
 * sender's binary messages from 0 and `payload` is the message's own msgpack encoding (an input,
 * or an output). The framing is read and written around the payload's bytes, which are never
 * decoded or encoded again for it. Text messages carry control frames, unframed, as text frames
 * do on a WebSocket.
 *
 * @example
 * ```ts
 * import { frameHeader, readFrameHeader } from "./channel_frame.ts";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array([0x80]); // msgpack {}
 * const header = frameHeader(7);
 * const message = new Uint8Array([...header, ...payload]);
 * assert.deepEqual(readFrameHeader(message), { seq: 7, start: 2 });
 * ```
 *
 * @module
 */

/** The largest DataChannel message rally sends or accepts, framing included: 256 KiB. */
export const DATA_CHANNEL_MAX_BYTES = 256 * 1024;

/** The most bytes the `[seq, ` head of a frame takes (0x92, then a uint64 seq). */
export const FRAME_HEADER_MAX_BYTES = 10;

/** Where a frame's payload starts, and its `seq`. */
export interface FrameHeader {
  /** The sender's counter. */
  seq: number;
  /** The offset of the payload's first byte. */
  start: number;
}

/**
 * The bytes that go before a payload: msgpack's fixarray-of-2 head (`0x92`) and `seq` as a
 * msgpack unsigned integer.
 *
 * @param seq The message's counter (a whole number, 0 or more).
 * @returns The head, 2 to 10 bytes.
 * @example
 * ```ts
 * import { frameHeader } from "./channel_frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...frameHeader(0)], [0x92, 0x00]);
 * assert.deepEqual([...frameHeader(300)], [0x92, 0xcd, 0x01, 0x2c]);
 * ```
 */
export function frameHeader(seq: number): Uint8Array {
  const header = new Uint8Array(headerSize(seq));
  writeFrameHeader(header, seq);
  return header;
}

/**
 * The size of the head {@link frameHeader} makes for `seq`.
 *
 * @param seq The counter.
 * @returns Its size in bytes.
 */
function headerSize(seq: number): number {
  if (seq < 0x80) return 2;
  if (seq < 0x100) return 3;
  if (seq < 0x10000) return 4;
  if (seq < 0x100000000) return 6;
  return 10;
}

/**
 * Write the head of a frame at the start of `target`.
 *
 * @param target Where to write; at least {@link headerSize} bytes long.
 * @param seq The counter.
 * @returns The offset where the payload goes.
 */
function writeFrameHeader(target: Uint8Array, seq: number): number {
  target[0] = 0x92;
  if (seq < 0x80) {
    target[1] = seq;
    return 2;
  }
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  if (seq < 0x100) {
    target[1] = 0xcc;
    target[2] = seq;
    return 3;
  }
  if (seq < 0x10000) {
    target[1] = 0xcd;
    view.setUint16(2, seq);
    return 4;
  }
  if (seq < 0x100000000) {
    target[1] = 0xce;
    view.setUint32(2, seq);
    return 6;
  }
  target[1] = 0xcf;
  view.setUint32(2, Math.floor(seq / 0x100000000));
  view.setUint32(6, seq >>> 0);
  return 10;
}

/**
 * Read the head of a frame: a fixarray of 2 whose first element is an unsigned integer, followed
 * by at least one byte of payload.
 *
 * @param bytes One DataChannel message.
 * @returns The `seq` and the payload's offset, or `undefined` when the message is not framed so.
 * @example
 * ```ts
 * import { readFrameHeader } from "./channel_frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(readFrameHeader(new Uint8Array([0x92, 0x05, 0x80])), { seq: 5, start: 2 });
 * assert.equal(readFrameHeader(new Uint8Array([0x80])), undefined);
 * ```
 */
export function readFrameHeader(bytes: Uint8Array): FrameHeader | undefined {
  if (bytes.length < 3 || bytes[0] !== 0x92) return undefined;
  const head = bytes[1];
  if (head < 0x80) return { seq: head, start: 2 };
  const width = head === 0xcc ? 1 : head === 0xcd ? 2 : head === 0xce ? 4 : head === 0xcf ? 8 : 0;
  const start = 2 + width;
  if (width === 0 || bytes.length <= start) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = width === 1
    ? bytes[2]
    : width === 2
    ? view.getUint16(2)
    : width === 4
    ? view.getUint32(2)
    : view.getUint32(2) * 0x100000000 + view.getUint32(6);
  return { seq, start };
}

/**
 * One side's framing of a DataChannel: it numbers the binary messages it sends, and reads the
 * ones it receives, skipping stale ones on a latest-wins channel (a `seq` not newer than the
 * newest already read).
 *
 * @example
 * ```ts
 * import { ChannelFrames } from "./channel_frame.ts";
 * import assert from "node:assert/strict";
 *
 * const sender = new ChannelFrames(false);
 * const receiver = new ChannelFrames(true);
 * const message = sender.wrap(new Uint8Array([0x80]))!; // [0, {}]
 * assert.deepEqual(receiver.unwrap(message), new Uint8Array([0x80]));
 * assert.equal(receiver.unwrap(message), "stale"); // latest-wins: an old seq is dropped
 * ```
 */
export class ChannelFrames {
  #latestWins: boolean;
  #allocate: (size: number) => Uint8Array;
  #nextSeq = 0;
  #lastSeq = -1;

  /**
   * Start a side's framing.
   *
   * @param latestWins Whether received messages older than the newest read are skipped.
   * @param allocate Makes the buffer of an outgoing message (e.g. a Node `Buffer`).
   */
  constructor(
    latestWins: boolean,
    allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
  ) {
    this.#latestWins = latestWins;
    this.#allocate = allocate;
  }

  /**
   * Frame a payload as the next message.
   *
   * @param payload The payload's msgpack bytes.
   * @returns The message, or `undefined` when it would be over {@link DATA_CHANNEL_MAX_BYTES}.
   */
  wrap(payload: Uint8Array): Uint8Array | undefined {
    const seq = this.#nextSeq;
    const size = headerSize(seq) + payload.length;
    if (size > DATA_CHANNEL_MAX_BYTES) return undefined;
    const message = this.#allocate(size);
    message.set(payload, writeFrameHeader(message, seq));
    this.#nextSeq = seq + 1;
    return message;
  }

  /**
   * Read a received binary message.
   *
   * @param message The message.
   * @returns Its payload (a view), `"malformed"` when it is not `[seq, payload]`, or `"stale"`
   * when a latest-wins channel skips it.
   */
  unwrap(message: Uint8Array): Uint8Array | "malformed" | "stale" {
    const header = readFrameHeader(message);
    if (!header) return "malformed";
    if (this.#latestWins) {
      if (header.seq <= this.#lastSeq) return "stale";
      this.#lastSeq = header.seq;
    }
    return message.subarray(header.start);
  }
}
