/**
 * Image filters on RGBA bytes (4 bytes per pixel, rows top to bottom, as a canvas's
 * `ImageData` holds them): grayscale, Sobel edge detection and a box blur. Pure functions: the
 * input is never changed, the output is a new array of the same size with alpha 255.
 *
 * @module
 */

/** The filters {@link applyFilter} knows. */
export const FILTERS = ["edges", "blur", "gray"] as const;

/** One of {@link FILTERS}. */
export type FilterName = typeof FILTERS[number];

/** What {@link applyFilter} needs besides the pixels. */
export interface FilterOptions {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Which filter. */
  filter: FilterName;
  /** Box blur radius in pixels (`blur`). Default 3. */
  radius?: number;
  /** Multiplier of the edge strength (`edges`). Default 1. */
  gain?: number;
}

/**
 * Apply one filter to an RGBA image.
 *
 * @param rgba The pixels: `width * height * 4` bytes.
 * @param options Size, filter and its parameter.
 * @returns The filtered pixels, a new array of the same length.
 * @throws {RangeError} when the size does not match the bytes.
 * @example
 * ```ts
 * import { applyFilter } from "./filter.ts";
 * import assert from "node:assert/strict";
 *
 * const pixels = new Uint8Array(4 * 4 * 4).fill(200);
 * const edges = applyFilter(pixels, { width: 4, height: 4, filter: "edges" });
 * assert.equal(edges[0], 0); // a flat image has no edges
 * ```
 */
export function applyFilter(rgba: Uint8Array, options: FilterOptions): Uint8Array<ArrayBuffer> {
  const { width, height } = options;
  checkSize(rgba, width, height);
  switch (options.filter) {
    case "gray":
      return grayscale(rgba, width, height);
    case "edges":
      return sobel(rgba, width, height, options.gain ?? 1);
    case "blur":
      return boxBlur(rgba, width, height, options.radius ?? 3);
  }
}

/**
 * The luma of each pixel (ITU-R BT.601 weights in integer form: `(77 R + 150 G + 29 B) >> 8`).
 *
 * @param rgba The pixels.
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @returns One byte per pixel.
 * @example
 * ```ts
 * import { luma } from "./filter.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...luma(new Uint8Array([255, 255, 255, 255]), 1, 1)], [255]);
 * ```
 */
export function luma(rgba: Uint8Array, width: number, height: number): Uint8Array<ArrayBuffer> {
  checkSize(rgba, width, height);
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    out[i] = (77 * rgba[p] + 150 * rgba[p + 1] + 29 * rgba[p + 2]) >> 8;
  }
  return out;
}

/**
 * Grayscale: each pixel's luma in R, G and B.
 *
 * @param rgba The pixels.
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @returns The gray image, RGBA.
 * @example
 * ```ts
 * import { grayscale } from "./filter.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...grayscale(new Uint8Array([255, 0, 0, 255]), 1, 1)], [76, 76, 76, 255]);
 * ```
 */
export function grayscale(
  rgba: Uint8Array,
  width: number,
  height: number,
): Uint8Array<ArrayBuffer> {
  return expand(luma(rgba, width, height));
}

/**
 * Sobel edge detection on the luma: each pixel's gradient magnitude `√(gx² + gy²)` times `gain`,
 * capped at 255, in R, G and B. Pixels past the border repeat the border's, so a flat image is
 * black everywhere, the border included.
 *
 * @param rgba The pixels.
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @param gain Multiplier of the magnitude.
 * @returns The edge image, RGBA.
 * @example
 * ```ts
 * import { sobel } from "./filter.ts";
 * import assert from "node:assert/strict";
 *
 * const flat = new Uint8Array(3 * 3 * 4).fill(90);
 * assert.ok(sobel(flat, 3, 3).every((v, i) => v === (i % 4 === 3 ? 255 : 0))); // no edges
 * ```
 */
export function sobel(
  rgba: Uint8Array,
  width: number,
  height: number,
  gain = 1,
): Uint8Array<ArrayBuffer> {
  const y = luma(rgba, width, height);
  const out = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) {
    const up = (row > 0 ? row - 1 : 0) * width;
    const mid = row * width;
    const down = (row < height - 1 ? row + 1 : row) * width;
    for (let col = 0; col < width; col++) {
      const left = col > 0 ? col - 1 : 0;
      const right = col < width - 1 ? col + 1 : col;
      const gx = y[up + right] + 2 * y[mid + right] + y[down + right] -
        (y[up + left] + 2 * y[mid + left] + y[down + left]);
      const gy = y[down + left] + 2 * y[down + col] + y[down + right] -
        (y[up + left] + 2 * y[up + col] + y[up + right]);
      out[mid + col] = Math.min(255, Math.round(Math.sqrt(gx * gx + gy * gy) * gain));
    }
  }
  return expand(out);
}

/**
 * Box blur of R, G and B: each pixel becomes the mean of the `(2 radius + 1)²` square around it
 * (two passes, rows then columns, each rounded; pixels past the border repeat the border's).
 * Alpha is set to 255.
 *
 * @param rgba The pixels.
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @param radius Half the box's side, in pixels (0: a copy).
 * @returns The blurred image, RGBA.
 * @throws {RangeError} for a radius that is not a whole number of at least 0.
 * @example
 * ```ts
 * import { boxBlur } from "./filter.ts";
 * import assert from "node:assert/strict";
 *
 * const line = new Uint8Array([0, 0, 0, 255, 90, 90, 90, 255, 0, 0, 0, 255]);
 * assert.equal(boxBlur(line, 3, 1, 1)[4], 30); // (0 + 90 + 0) / 3
 * ```
 */
export function boxBlur(
  rgba: Uint8Array,
  width: number,
  height: number,
  radius = 3,
): Uint8Array<ArrayBuffer> {
  checkSize(rgba, width, height);
  if (!(Number.isInteger(radius) && radius >= 0)) {
    throw new RangeError(`radius must be a whole number of at least 0, got ${radius}`);
  }
  const rows = new Uint8Array(rgba.length);
  const out = new Uint8Array(rgba.length);
  // Rows: pixel (col, row) is at (row * width + col) * 4, a step of 4 along a row.
  for (let row = 0; row < height; row++) {
    blurLine(rgba, rows, row * width * 4, 4, width, radius);
  }
  // Columns: a step of width * 4 down a column.
  for (let col = 0; col < width; col++) blurLine(rows, out, col * 4, width * 4, height, radius);
  for (let a = 3; a < out.length; a += 4) out[a] = 255;
  return out;
}

/** Mean of a sliding window of 2 radius + 1 samples along one line, for channels 0..2. */
function blurLine(
  from: Uint8Array,
  to: Uint8Array,
  start: number,
  step: number,
  length: number,
  radius: number,
): void {
  const size = 2 * radius + 1;
  const last = length - 1;
  const at = (i: number) => start + (i < 0 ? 0 : i > last ? last : i) * step;
  for (let channel = 0; channel < 3; channel++) {
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += from[at(i) + channel];
    for (let i = 0; i < length; i++) {
      to[start + i * step + channel] = Math.round(sum / size);
      sum += from[at(i + radius + 1) + channel] - from[at(i - radius) + channel];
    }
  }
}

/** One byte per pixel to RGBA: the byte in R, G and B, alpha 255. */
function expand(gray: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(gray.length * 4);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) {
    out[p] = out[p + 1] = out[p + 2] = gray[i];
    out[p + 3] = 255;
  }
  return out;
}

function checkSize(rgba: Uint8Array, width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`width and height must be whole numbers over 0, got ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `An RGBA image of ${width}x${height} has ${width * height * 4} bytes, got ${rgba.length}`,
    );
  }
}
