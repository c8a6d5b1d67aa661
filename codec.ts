/**
 * The one codec of rally, shared by server and client: MessagePack for binary frames and
 * bodies (with `Uint8Array` ⇄ `bin`, decoded as a view with no copy), JSON for text frames
 * and control messages, and decode limits that refuse hostile input before it grows the heap.
 *
 * @example
 * ```ts
 * import { Codec } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * const codec = new Codec();
 * const bytes = codec.encode({ prompt: "hi", image: new Uint8Array([1, 2, 3]) });
 * const value = codec.decode(bytes) as { prompt: string; image: Uint8Array };
 * assert.equal(value.prompt, "hi");
 * assert.deepEqual([...value.image], [1, 2, 3]); // bytes travel as msgpack bin, not base64
 * ```
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";

/**
 * Limits applied when decoding one MessagePack message.
 *
 * @example
 * ```ts
 * import { Codec, type DecodeLimits } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * const limits: DecodeLimits = { maxStrLength: 1024 };
 * assert.throws(() => new Codec(limits).decode(new Codec().encode("x".repeat(2048))));
 * ```
 */
export interface DecodeLimits {
  /** Longest string, in bytes. Default 16 MiB. */
  maxStrLength?: number;
  /** Longest `bin` value, in bytes. Default 64 MiB. */
  maxBinLength?: number;
  /** Most elements in one array. Default 500,000. */
  maxArrayLength?: number;
  /** Most entries in one map. Default 100,000. */
  maxMapLength?: number;
  /**
   * Budget on the total number of values (every scalar, array, map, key and element) in one
   * message, so that a small frame cannot expand into a huge object graph. Default 500,000
   * (500,000 empty maps take about 32 MB of heap).
   */
  maxElements?: number;
}

/**
 * The limits a {@link Codec} uses when none are given.
 *
 * @example
 * ```ts
 * import { Codec, DEFAULT_DECODE_LIMITS } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * // Twice the default string length, other limits unchanged:
 * const codec = new Codec({ maxStrLength: 2 * DEFAULT_DECODE_LIMITS.maxStrLength });
 * assert.equal(codec.decode(codec.encode("ok")), "ok");
 * ```
 */
export const DEFAULT_DECODE_LIMITS: Readonly<Required<DecodeLimits>> = Object.freeze({
  maxStrLength: 16 * 1024 * 1024,
  maxBinLength: 64 * 1024 * 1024,
  maxArrayLength: 500_000,
  maxMapLength: 100_000,
  maxElements: 500_000,
});

/**
 * A message that could not be decoded: malformed, truncated, or over a decode limit.
 *
 * @example
 * ```ts
 * import { Codec, DecodeError } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * // An array of 2 that holds only 1 element:
 * assert.throws(() => new Codec().decode(new Uint8Array([0x92, 0x01])), (error) => {
 *   return error instanceof DecodeError && error.message.startsWith("Cannot decode message:");
 * });
 * ```
 */
export class DecodeError extends Error {
  /**
   * Make the error.
   *
   * @param detail What was wrong with the message.
   * @param options The underlying cause, if any.
   */
  constructor(detail: string, options?: ErrorOptions) {
    super(`Cannot decode message: ${detail}`, options);
    this.name = "DecodeError";
  }
}

/**
 * MessagePack encoder and decoder with reused buffers and decode limits.
 *
 * One instance is not reentrant across `encodeShared` calls: the bytes it returns are only
 * valid until its next encode. Both sides of rally keep one instance per process.
 *
 * @example
 * ```ts
 * import { Codec, DecodeError } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * const codec = new Codec({ maxElements: 10 });
 * assert.deepEqual(codec.decode(codec.encode([1, 2, 3])), [1, 2, 3]);
 * assert.throws(() => codec.decode(codec.encode(new Array(20).fill(0))), DecodeError);
 * ```
 */
export class Codec {
  #encoder: Encoder = new Encoder({ ignoreUndefined: true });
  #decoder: Decoder;
  #maxElements: number;

  /**
   * Make a codec.
   *
   * @param limits Decode limits; each one left out takes its {@link DEFAULT_DECODE_LIMITS} value.
   */
  constructor(limits: DecodeLimits = {}) {
    const all = { ...DEFAULT_DECODE_LIMITS, ...limits };
    this.#maxElements = all.maxElements;
    this.#decoder = new Decoder({
      maxStrLength: all.maxStrLength,
      maxBinLength: all.maxBinLength,
      maxArrayLength: all.maxArrayLength,
      maxMapLength: all.maxMapLength,
      // Timestamps (what the encoder makes of a `Date`) take at most 12 bytes; no other
      // extension is used, so none may be longer.
      maxExtLength: 12,
    });
  }

  /**
   * Encode a value into a fresh `Uint8Array` the caller owns.
   *
   * @param value Any value MessagePack can hold; `Uint8Array` becomes `bin`.
   * @returns The encoded bytes.
   * @example
   * ```ts
   * import { Codec } from "@rally/rally/codec";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new Codec().encode({ a: 1 })], [0x81, 0xa1, 0x61, 0x01]);
   * ```
   */
  encode(value: unknown): Uint8Array<ArrayBuffer> {
    return this.#encoder.encode(value) as Uint8Array<ArrayBuffer>;
  }

  /**
   * Encode a value into the codec's own buffer, without a copy. The bytes are valid only until
   * the next encode on this codec: send or copy them at once.
   *
   * @param value Any value MessagePack can hold.
   * @returns A view of the codec's buffer.
   * @example
   * ```ts
   * import { Codec } from "@rally/rally/codec";
   * import assert from "node:assert/strict";
   *
   * const codec = new Codec();
   * const view = codec.encodeShared({ ok: true }); // hand to socket.send() right away
   * assert.deepEqual(codec.decode(view), { ok: true });
   * ```
   */
  encodeShared(value: unknown): Uint8Array<ArrayBuffer> {
    // The encoder's buffer is an `ArrayBuffer` it allocated, never shared memory.
    return this.#encoder.encodeSharedRef(value) as Uint8Array<ArrayBuffer>;
  }

  /**
   * The budget on the number of values in one message (see {@link DecodeLimits.maxElements}).
   *
   * @example
   * ```ts
   * import { Codec, DEFAULT_DECODE_LIMITS } from "@rally/rally/codec";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Codec({ maxElements: 10 }).maxElements, 10);
   * assert.equal(new Codec().maxElements, DEFAULT_DECODE_LIMITS.maxElements);
   * ```
   */
  get maxElements(): number {
    return this.#maxElements;
  }

  /**
   * Parse one JSON text (a text frame or a JSON body) under the same value budget as
   * {@link Codec.decode}: a text longer than the budget is counted first, and refused before
   * `JSON.parse` builds anything when it holds more values.
   *
   * @param text The JSON text.
   * @returns The parsed value.
   * @throws {DecodeError} when the text is not JSON or holds more values than the budget.
   * @example
   * ```ts
   * import { Codec, DecodeError } from "@rally/rally/codec";
   * import assert from "node:assert/strict";
   *
   * const codec = new Codec({ maxElements: 3 });
   * assert.deepEqual(codec.decodeText("[1,2]"), [1, 2]);
   * assert.throws(() => codec.decodeText("[[],[],[],[]]"), DecodeError);
   * ```
   */
  decodeText(text: string): unknown {
    return decodeText(text, this.#maxElements);
  }

  /**
   * Decode one MessagePack message. `bin` values come back as views into `bytes` (no copy).
   *
   * @param bytes Exactly one message.
   * @returns The decoded value.
   * @throws {DecodeError} when the bytes are malformed, truncated, trailed by extra bytes, or
   * over a limit.
   * @example
   * ```ts
   * import { Codec } from "@rally/rally/codec";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Codec().decode(new Uint8Array([0x93, 1, 2, 3])), [1, 2, 3]);
   * ```
   */
  decode(bytes: ArrayBuffer | Uint8Array): unknown {
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    // Every value takes at least one byte, so a message no longer than the budget cannot
    // exceed it: only longer ones are counted before decoding.
    if (view.length > this.#maxElements) checkElementBudget(view, this.#maxElements);
    try {
      return this.#decoder.decode(view);
    } catch (error) {
      throw new DecodeError(describe(error as Error), { cause: error });
    }
  }
}

/**
 * Parse one JSON text (a text frame, a body or a control message) under a value budget: a text
 * longer than the budget is counted first (a linear scan that stops at the budget), so that a
 * small text cannot expand into a huge object graph; a shorter text cannot hold more values
 * than it has characters, and goes straight to `JSON.parse`.
 *
 * @param text The JSON text.
 * @param maxElements The most values (every scalar, array, object, key and element) the text
 * may hold. Default: {@link DEFAULT_DECODE_LIMITS}`.maxElements`.
 * @returns The parsed value.
 * @throws {DecodeError} when the text is not JSON, or holds more values than `maxElements`.
 * @example
 * ```ts
 * import { decodeText } from "@rally/rally/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeText('{"prompt":"hi"}'), { prompt: "hi" });
 * assert.throws(() => decodeText("[[],[],[]]", 3), /more than 3 values in one message/);
 * ```
 */
export function decodeText(
  text: string,
  maxElements: number = DEFAULT_DECODE_LIMITS.maxElements,
): unknown {
  if (text.length > maxElements) checkTextBudget(text, maxElements);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`invalid JSON (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Count the values of a JSON text without parsing it, and throw when the count passes the
 * budget. A value starts at the first character after `[`, `{`, `,`, `:` or the start that is
 * not whitespace or a closing bracket; strings are skipped whole. Exact for valid JSON; for
 * malformed text the count is what it is, and `JSON.parse` reports the text.
 */
function checkTextBudget(text: string, budget: number): void {
  let expecting = true;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20) continue; // whitespace
    if (c === 0x2c || c === 0x3a) { // , :
      expecting = true;
      continue;
    }
    if (c === 0x5d || c === 0x7d) { // ] }
      expecting = false;
      continue;
    }
    if (expecting && ++count > budget) {
      throw new DecodeError(`more than ${budget} values in one message`);
    }
    expecting = c === 0x5b || c === 0x7b; // [ {: a value, and the start of more
    if (c === 0x22) i = endOfString(text, i);
  }
}

/** The index of the quote that closes the string opened at `start` (or the text's length). */
function endOfString(text: string, start: number): number {
  for (let i = text.indexOf('"', start + 1); i >= 0; i = text.indexOf('"', i + 1)) {
    let slashes = 0;
    while (text.charCodeAt(i - 1 - slashes) === 0x5c) slashes++; // \
    if (slashes % 2 === 0) return i;
  }
  return text.length;
}

/** Bytes after the head byte of the fixed-size types 0xc0..0xdf (-1: sized by a length). */
// deno-fmt-ignore
const FIXED_SIZE = [
  0, 0, 0, 0, -1, -1, -1, -1, -1, -1, 4, 8, 1, 2, 4, 8,
  1, 2, 4, 8, 2, 3, 5, 9, 17, -1, -1, -1, -1, -1, -1, -1,
];

/** Width of the length field and what follows it, for the length-sized types. */
// deno-fmt-ignore
const SIZED: Record<number, readonly [width: 1 | 2 | 4, kind: "bytes" | "ext" | "array" | "map"]> = {
  0xc4: [1, "bytes"], 0xc5: [2, "bytes"], 0xc6: [4, "bytes"],
  0xc7: [1, "ext"], 0xc8: [2, "ext"], 0xc9: [4, "ext"],
  0xd9: [1, "bytes"], 0xda: [2, "bytes"], 0xdb: [4, "bytes"],
  0xdc: [2, "array"], 0xdd: [4, "array"], 0xde: [2, "map"], 0xdf: [4, "map"],
};

/**
 * Walk a MessagePack message without building it, counting its values, and throw when the
 * count passes the budget. Containers only add to the number of values still to read, so no
 * stack is needed. Truncated input ends the walk: the decoder reports it.
 */
function checkElementBudget(bytes: Uint8Array, budget: number): void {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let toRead = 1;
  for (let seen = 1; toRead > 0 && pos < bytes.length; seen++) {
    if (seen > budget) throw new DecodeError(`more than ${budget} values in one message`);
    toRead--;
    const head = bytes[pos++];
    if (head <= 0x7f || head >= 0xe0) continue; // fixint
    if (head <= 0x8f) toRead += (head & 0x0f) * 2; // fixmap
    else if (head <= 0x9f) toRead += head & 0x0f; // fixarray
    else if (head <= 0xbf) pos += head & 0x1f; // fixstr
    else if (FIXED_SIZE[head - 0xc0] >= 0) pos += FIXED_SIZE[head - 0xc0];
    else {
      const [width, kind] = SIZED[head];
      if (pos + width > bytes.length) return;
      const n = width === 1
        ? data.getUint8(pos)
        : width === 2
        ? data.getUint16(pos)
        : data.getUint32(pos);
      pos += width;
      if (kind === "bytes") pos += n;
      else if (kind === "ext") pos += n + 1;
      else toRead += kind === "map" ? n * 2 : n;
    }
  }
}

function describe(error: Error): string {
  if (/insufficient data|outside the bounds/i.test(error.message)) return "unexpected end of input";
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}
