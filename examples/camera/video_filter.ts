/**
 * The camera demo's filters on I420 video frames (the WebRTC video track's format): they work
 * on the luma plane, which is a third of the bytes of RGBA and needs no conversion, and set the
 * chroma to neutral gray. The top {@link STAMP_ROWS} rows pass through unchanged: the page draws
 * its frame number there (`stamp.js`) to measure glass-to-glass latency.
 *
 * @example
 * ```ts
 * import { filterI420 } from "./video_filter.ts";
 *
 * const frame = { width: 4, height: 20, data: new Uint8Array(4 * 20 * 3 / 2).fill(90) };
 * const gray = filterI420(frame, "gray");
 * if (gray.data.at(-1) !== 128) throw new Error("chroma below the strip is neutral");
 * ```
 *
 * @module
 */
import type { FilterName } from "./filter.ts";

/** Rows at the top that every filter leaves alone (the frame-number strip). */
export const STAMP_ROWS = 16;

/** An I420 frame. */
export interface I420 {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Y, then U and V at half resolution. */
  data: Uint8Array;
}

/**
 * Filter an I420 frame: `gray` keeps the luma, `edges` is a Sobel magnitude of the luma, `blur`
 * a 5x5 box blur of it.
 *
 * @param frame The frame (not changed).
 * @param filter Which filter.
 * @returns A new frame of the same size.
 */
export function filterI420(frame: I420, filter: FilterName): I420 {
  const { width, height, data } = frame;
  const out = new Uint8Array(data.length);
  const lumaSize = width * height;
  const top = Math.min(STAMP_ROWS, height) * width;
  out.set(data.subarray(0, top));
  if (filter === "gray") out.set(data.subarray(top, lumaSize), top);
  else if (filter === "edges") sobelRows(data, out, width, height);
  else blurRows(data, out, width, height, 2);
  out.fill(128, lumaSize);
  // The strip keeps its colors too (neutral anyway: it is black and white).
  const chromaWidth = Math.ceil(width / 2);
  const chromaRows = Math.min(STAMP_ROWS / 2, Math.ceil(height / 2));
  const planeSize = chromaWidth * Math.ceil(height / 2);
  for (const plane of [lumaSize, lumaSize + planeSize]) {
    out.set(data.subarray(plane, plane + chromaRows * chromaWidth), plane);
  }
  return { width, height, data: out };
}

function sobelRows(y: Uint8Array, out: Uint8Array, width: number, height: number): void {
  for (let row = STAMP_ROWS; row < height; row++) {
    const up = (row - 1) * width;
    const mid = row * width;
    const down = (row < height - 1 ? row + 1 : row) * width;
    for (let col = 0; col < width; col++) {
      const left = col > 0 ? col - 1 : 0;
      const right = col < width - 1 ? col + 1 : col;
      const gx = y[up + right] + 2 * y[mid + right] + y[down + right] -
        (y[up + left] + 2 * y[mid + left] + y[down + left]);
      const gy = y[down + left] + 2 * y[down + col] + y[down + right] -
        (y[up + left] + 2 * y[up + col] + y[up + right]);
      const magnitude = Math.abs(gx) + Math.abs(gy); // cheaper than the square root
      out[mid + col] = magnitude > 255 ? 255 : magnitude;
    }
  }
}

function blurRows(y: Uint8Array, out: Uint8Array, width: number, height: number, r: number) {
  const rows = new Uint16Array(width * height);
  const size = 2 * r + 1;
  for (let row = STAMP_ROWS; row < height; row++) {
    const base = row * width;
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += y[base + Math.min(width - 1, Math.max(0, i))];
    for (let col = 0; col < width; col++) {
      rows[base + col] = sum;
      sum += y[base + Math.min(width - 1, col + r + 1)] - y[base + Math.max(0, col - r)];
    }
  }
  for (let col = 0; col < width; col++) {
    let sum = 0;
    const at = (row: number) => rows[Math.min(height - 1, Math.max(STAMP_ROWS, row)) * width + col];
    for (let i = -r; i <= r; i++) sum += at(STAMP_ROWS + i);
    for (let row = STAMP_ROWS; row < height; row++) {
      out[row * width + col] = Math.round(sum / (size * size));
      sum += at(row + r + 1) - at(row - r);
    }
  }
}
