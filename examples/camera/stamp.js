/**
 * A frame number drawn into a frame's pixels, so that a glass-to-glass latency can be measured
 * through a video codec: 16 bits as a strip of 16 blocks of 16x16 px along the top-left edge,
 * black for 0 and white for 1, aligned to the codec's macroblocks so that VP8 keeps them
 * readable. Read back from the mean of each block's inner 8x8 pixels. Plain JavaScript with JSDoc
 * types, so that the camera App serves this very file to the page (`/stamp.js`) and Deno code
 * (tests, bench) imports it too.
 *
 * @example
 * ```ts
 * import { readStampI420, stampI420 } from "./stamp.js";
 *
 * const frame = new Uint8Array(320 * 240 * 3 / 2);
 * stampI420(frame, 320, 1234);
 * if (readStampI420(frame, 320) !== 1234) throw new Error("the stamp did not survive");
 * ```
 *
 * @module
 */

/** Bits in a stamp. */
export const STAMP_BITS = 16;
/** Side of one block, in pixels. */
export const STAMP_BLOCK = 16;
/** Numbers wrap at this. */
export const STAMP_MODULO = 2 ** STAMP_BITS;

const DARK = 16;
const LIGHT = 235;

/**
 * Draw `n` into the luma plane of an I420 frame.
 *
 * @param {Uint8Array} data The frame's bytes (Y first).
 * @param {number} width The frame's width (at least 256 px).
 * @param {number} n The number (taken modulo 2^16).
 */
export function stampI420(data, width, n) {
  const value = n % STAMP_MODULO;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const level = (value >> (STAMP_BITS - 1 - bit)) & 1 ? LIGHT : DARK;
    for (let y = 0; y < STAMP_BLOCK; y++) {
      const row = y * width + bit * STAMP_BLOCK;
      data.fill(level, row, row + STAMP_BLOCK);
    }
  }
}

/**
 * Read the number back from the luma plane of an I420 frame.
 *
 * @param {Uint8Array} data The frame's bytes (Y first).
 * @param {number} width The frame's width.
 * @returns {number} The number.
 */
export function readStampI420(data, width) {
  return readBits((x, y) => data[y * width + x]);
}

/**
 * Draw `n` into an RGBA frame (e.g. a canvas' `ImageData.data`).
 *
 * @param {Uint8Array | Uint8ClampedArray} rgba The pixels.
 * @param {number} width The frame's width (at least 256 px).
 * @param {number} n The number (taken modulo 2^16).
 */
export function stampRgba(rgba, width, n) {
  const value = n % STAMP_MODULO;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const level = (value >> (STAMP_BITS - 1 - bit)) & 1 ? 255 : 0;
    for (let y = 0; y < STAMP_BLOCK; y++) {
      const row = (y * width + bit * STAMP_BLOCK) * 4;
      for (let i = 0; i < STAMP_BLOCK * 4; i += 4) {
        rgba[row + i] = rgba[row + i + 1] = rgba[row + i + 2] = level;
        rgba[row + i + 3] = 255;
      }
    }
  }
}

/**
 * What {@link stampCanvas} needs of a canvas' 2D context.
 *
 * @typedef {{ fillStyle: unknown, fillRect(x: number, y: number, w: number, h: number): void }} Canvas2d
 */

/**
 * Draw `n` on a canvas (16 filled squares), e.g. before `captureStream`'s `requestFrame()`.
 *
 * @param {Canvas2d} context The canvas' 2D context.
 * @param {number} n The number (taken modulo 2^16).
 */
export function stampCanvas(context, n) {
  const value = n % STAMP_MODULO;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    context.fillStyle = (value >> (STAMP_BITS - 1 - bit)) & 1 ? "#ffffff" : "#000000";
    context.fillRect(bit * STAMP_BLOCK, 0, STAMP_BLOCK, STAMP_BLOCK);
  }
}

/**
 * Read the number back from an RGBA frame.
 *
 * @param {Uint8Array | Uint8ClampedArray} rgba The pixels.
 * @param {number} width The frame's width.
 * @returns {number} The number.
 */
export function readStampRgba(rgba, width) {
  return readBits((x, y) => rgba[(y * width + x) * 4 + 1]); // green follows luma most
}

/**
 * @param {(x: number, y: number) => number} at A pixel's level.
 * @returns {number} The number.
 */
function readBits(at) {
  let value = 0;
  const inner = STAMP_BLOCK / 4;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    let sum = 0;
    for (let y = inner; y < STAMP_BLOCK - inner; y++) {
      for (let x = inner; x < STAMP_BLOCK - inner; x++) sum += at(bit * STAMP_BLOCK + x, y);
    }
    const mean = sum / ((STAMP_BLOCK - 2 * inner) ** 2);
    value = value * 2 + (mean > 128 ? 1 : 0);
  }
  return value;
}
