// Showing decoded values: JSON text, with each Uint8Array as its size and a preview (an image
// when its bytes are one, else its first bytes in hex).
import { h, size } from "./dom.js";

const IMAGE_TYPES = [
  { type: "image/png", magic: [0x89, 0x50, 0x4e, 0x47] },
  { type: "image/jpeg", magic: [0xff, 0xd8, 0xff] },
  { type: "image/gif", magic: [0x47, 0x49, 0x46, 0x38] },
  { type: "image/webp", magic: [0x52, 0x49, 0x46, 0x46], at8: [0x57, 0x45, 0x42, 0x50] },
];

/**
 * The image type of some bytes, by their first bytes.
 *
 * @param {Uint8Array} bytes The bytes.
 * @returns {string | undefined} e.g. `"image/png"`.
 */
export function imageType(bytes) {
  const starts = (magic, at = 0) => magic.every((b, i) => bytes[at + i] === b);
  return IMAGE_TYPES.find((t) => starts(t.magic) && (!t.at8 || starts(t.at8, 8)))?.type;
}

/**
 * The first bytes in hex.
 *
 * @param {Uint8Array} bytes The bytes.
 * @param {number} [n] How many.
 * @returns {string} e.g. `"89 50 4e 47 …"`.
 */
export function hexHead(bytes, n = 16) {
  const head = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > n ? `${head} …` : head;
}

/**
 * A preview of bytes: size, and an image or the first bytes in hex.
 *
 * @param {Uint8Array} bytes The bytes.
 * @param {string} [label] What they are (a field's path).
 * @returns {HTMLElement} The preview.
 */
export function bytesPreview(bytes, label) {
  const type = imageType(bytes);
  const image = type
    ? h("img", { src: URL.createObjectURL(new Blob([bytes], { type })), alt: label ?? "bytes" })
    : null;
  return h(
    "div",
    { class: "preview" },
    label ? h("code", {}, label) : null,
    h("span", { class: "bytes-size" }, `${size(bytes.length)}${type ? ` ${type}` : ""}`),
    image ?? h("code", {}, hexHead(bytes)),
  );
}

/**
 * A value as JSON text, each Uint8Array written as `<bytes: N B>`, and a preview per Uint8Array.
 *
 * @param {unknown} value The value.
 * @param {{ compact?: boolean }} [options] `compact`: on one line when it fits in 120 characters.
 * @returns {HTMLElement} The element.
 */
export function renderValue(value, options = {}) {
  /** @type {[string, Uint8Array][]} */
  const found = [];
  const replacer = function (key, item) {
    if (item instanceof Uint8Array) {
      found.push([key, item]);
      return `<bytes: ${size(item.length)}>`;
    }
    if (typeof item === "bigint") return `${item}n`;
    return item;
  };
  let text = value instanceof Uint8Array
    ? `<bytes: ${size(value.length)}>`
    : typeof value === "string"
    ? value
    : JSON.stringify(value, replacer, options.compact ? undefined : 2) ?? String(value);
  if (options.compact && text.length > 120 && typeof value === "object" && value !== null) {
    found.length = 0;
    text = JSON.stringify(value, replacer, 2);
  }
  if (value instanceof Uint8Array) found.push(["", value]);
  return h(
    "div",
    { class: "value" },
    h("pre", {}, text),
    ...found.slice(0, 8).map(([key, bytes]) => bytesPreview(bytes, key || undefined)),
  );
}
