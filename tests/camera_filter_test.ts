import assert from "node:assert/strict";
import { applyFilter, boxBlur, grayscale, luma, sobel } from "../examples/camera/filter.ts";

/** An RGBA image from gray levels given row by row (alpha 255). */
function image(rows: number[][]): { rgba: Uint8Array; width: number; height: number } {
  const height = rows.length;
  const width = rows[0].length;
  const rgba = new Uint8Array(width * height * 4);
  rows.flat().forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return { rgba, width, height };
}

/** The R channel of an RGBA image, row by row. */
function levels(rgba: Uint8Array, width: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < rgba.length / 4; i++) {
    if (i % width === 0) rows.push([]);
    rows.at(-1)!.push(rgba[i * 4]);
  }
  return rows;
}

function assertGrayOpaque(rgba: Uint8Array): void {
  for (let p = 0; p < rgba.length; p += 4) {
    assert.equal(rgba[p + 1], rgba[p], `G = R at pixel ${p / 4}`);
    assert.equal(rgba[p + 2], rgba[p], `B = R at pixel ${p / 4}`);
    assert.equal(rgba[p + 3], 255, `alpha at pixel ${p / 4}`);
  }
}

Deno.test("camera filter: luma weighs R, G and B as BT.601 in integers", () => {
  const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 0]);
  assert.deepEqual([...luma(rgba, 4, 1)], [76, 149, 28, 255]);
});

Deno.test("camera filter: grayscale puts the luma in R, G and B with alpha 255", () => {
  const rgba = new Uint8Array([255, 0, 0, 10, 0, 255, 0, 20]);
  assert.deepEqual([...grayscale(rgba, 2, 1)], [76, 76, 76, 255, 149, 149, 149, 255]);
});

Deno.test("camera filter: Sobel finds a vertical step, a horizontal step, and nothing in a flat image", () => {
  const vertical = image([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]);
  const edges = sobel(vertical.rgba, vertical.width, vertical.height);
  assert.deepEqual(levels(edges, 4), [[0, 40, 40, 0], [0, 40, 40, 0], [0, 40, 40, 0]]);
  assertGrayOpaque(edges);

  const horizontal = image([[0, 0, 0], [0, 0, 0], [10, 10, 10], [10, 10, 10]]);
  assert.deepEqual(levels(sobel(horizontal.rgba, 3, 4), 3), [
    [0, 0, 0],
    [40, 40, 40],
    [40, 40, 40],
    [0, 0, 0],
  ]);

  const flat = image([[90, 90, 90], [90, 90, 90]]);
  assert.deepEqual(levels(sobel(flat.rgba, 3, 2), 3), [[0, 0, 0], [0, 0, 0]]);
});

Deno.test("camera filter: Sobel's magnitude is √(gx² + gy²), times the gain, capped at 255", () => {
  // One bright pixel in the middle of a 3x3 image: at the corner (0, 0) gx = gy = 10.
  const dot = image([[0, 0, 0], [0, 10, 0], [0, 0, 0]]);
  const edges = levels(sobel(dot.rgba, 3, 3), 3);
  assert.equal(edges[0][0], Math.round(Math.sqrt(200)));
  assert.equal(edges[1][1], 0, "the dot's own gradient cancels out");
  const step = image([[0, 10], [0, 10]]);
  assert.deepEqual(levels(sobel(step.rgba, 2, 2, 2), 2), [[80, 80], [80, 80]]);
  const cliff = image([[0, 255], [0, 255]]);
  assert.deepEqual(levels(sobel(cliff.rgba, 2, 2), 2), [[255, 255], [255, 255]]);
});

Deno.test("camera filter: box blur spreads a bright pixel over its box and keeps flat areas", () => {
  const dot = image([
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 250, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ]);
  // Rows: 250 / 3 = 83.3 → 83; columns: 83 / 3 = 27.7 → 28.
  assert.deepEqual(levels(boxBlur(dot.rgba, 5, 5, 1), 5), [
    [0, 0, 0, 0, 0],
    [0, 28, 28, 28, 0],
    [0, 28, 28, 28, 0],
    [0, 28, 28, 28, 0],
    [0, 0, 0, 0, 0],
  ]);
  const flat = image([[77, 77, 77, 77], [77, 77, 77, 77]]);
  assert.deepEqual(boxBlur(flat.rgba, 4, 2, 5), flat.rgba, "a radius past the image's size");
  const line = image([[0, 90, 0]]);
  assert.deepEqual(levels(boxBlur(line.rgba, 3, 1, 1), 3), [[30, 30, 30]]);
});

Deno.test("camera filter: box blur treats channels apart, sets alpha 255, and radius 0 copies", () => {
  const rgba = new Uint8Array([30, 0, 0, 0, 0, 60, 0, 0, 0, 0, 90, 0]);
  assert.deepEqual(
    [...boxBlur(rgba, 3, 1, 1)],
    [20, 20, 0, 255, 10, 20, 30, 255, 0, 20, 60, 255],
  );
  assert.deepEqual([...boxBlur(rgba, 3, 1, 0)], [30, 0, 0, 255, 0, 60, 0, 255, 0, 0, 90, 255]);
  assert.throws(() => boxBlur(rgba, 3, 1, 1.5), RangeError);
});

Deno.test("camera filter: applyFilter picks the filter, never changes its input, checks the size", () => {
  const picture = image([[0, 0, 10, 10], [0, 0, 10, 10]]);
  const before = picture.rgba.slice();
  const size = { width: 4, height: 2 };
  assert.deepEqual(
    applyFilter(picture.rgba, { ...size, filter: "edges", gain: 2 }),
    sobel(picture.rgba, 4, 2, 2),
  );
  assert.deepEqual(
    applyFilter(picture.rgba, { ...size, filter: "blur", radius: 1 }),
    boxBlur(picture.rgba, 4, 2, 1),
  );
  assert.deepEqual(applyFilter(picture.rgba, { ...size, filter: "gray" }), picture.rgba);
  assert.deepEqual(picture.rgba, before);
  assert.notEqual(applyFilter(picture.rgba, { ...size, filter: "gray" }), picture.rgba);
  assert.throws(() => applyFilter(picture.rgba, { width: 3, height: 2, filter: "gray" }), {
    name: "RangeError",
    message: "An RGBA image of 3x2 has 24 bytes, got 32",
  });
  assert.throws(() => luma(new Uint8Array(0), 0, 0), RangeError);
});

Deno.test("camera filter: every filter keeps the size of a 256x192 frame", () => {
  const rgba = new Uint8Array(256 * 192 * 4).map((_, i) => (i * 7919) % 251);
  for (const filter of ["edges", "blur", "gray"] as const) {
    const out = applyFilter(rgba, { width: 256, height: 192, filter });
    assert.equal(out.length, rgba.length);
  }
});
