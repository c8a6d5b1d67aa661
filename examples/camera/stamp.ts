/**
 * A frame number drawn into a frame's pixels, so that a glass-to-glass latency can be measured
 * through a video codec: 16 bits as a strip of 16 blocks of 16x16 px along the top-left edge,
 * black for 0 and white for 1, aligned to the codec's macroblocks so that VP8 keeps them
 * readable. Read back from the mean of each block's inner 8x8 pixels. Browser-safe.
 *
 * @example
 * ```ts
 * import { readStampI420, stampI420 } from "./stamp.ts";
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
 * @param data The frame's bytes (Y first).
 * @param width The frame's width (at least 256 px).
 * @param n The number (taken modulo 2^16).
 */
export function stampI420(data: Uint8Array, width: number, n: number): void {
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
 * @param data The frame's bytes (Y first).
 * @param width The frame's width.
 * @returns The number.
 */
export function readStampI420(data: Uint8Array, width: number): number {
  return readBits((x, y) => data[y * width + x]);
}

/**
 * Draw `n` into an RGBA frame (e.g. a canvas' `ImageData.data`).
 *
 * @param rgba The pixels.
 * @param width The frame's width (at least 256 px).
 * @param n The number (taken modulo 2^16).
 */
export function stampRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, n: number): void {
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

/** What {@link stampCanvas} needs of a canvas' 2D context. */
export interface Canvas2d {
  /** The fill color. */
  fillStyle: unknown;
  /** Fill a rectangle. */
  fillRect(x: number, y: number, width: number, height: number): void;
}

/**
 * Draw `n` on a canvas (16 filled squares), e.g. before `captureStream`'s `requestFrame()`.
 *
 * @param context The canvas' 2D context.
 * @param n The number (taken modulo 2^16).
 */
export function stampCanvas(context: Canvas2d, n: number): void {
  const value = n % STAMP_MODULO;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    context.fillStyle = (value >> (STAMP_BITS - 1 - bit)) & 1 ? "#ffffff" : "#000000";
    context.fillRect(bit * STAMP_BLOCK, 0, STAMP_BLOCK, STAMP_BLOCK);
  }
}

/**
 * Read the number back from an RGBA frame.
 *
 * @param rgba The pixels.
 * @param width The frame's width.
 * @returns The number.
 */
export function readStampRgba(rgba: Uint8Array | Uint8ClampedArray, width: number): number {
  return readBits((x, y) => rgba[(y * width + x) * 4 + 1]); // green follows luma most
}

function readBits(at: (x: number, y: number) => number): number {
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
