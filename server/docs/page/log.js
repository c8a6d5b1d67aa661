// The frame log: one row per frame or event, in or out, with its kind shown distinctly.
import { h, ms } from "./dom.js";
import { renderValue } from "./values.js";

/** The most rows a log keeps. */
const MAX_ROWS = 500;

/**
 * Make a log.
 *
 * @returns {{ element: HTMLElement, add(entry: { dir: "in" | "out" | "", kind: string, tag: string, value?: unknown, text?: string, rtt?: string }): HTMLElement, clear(): void, reset(): void }}
 * The log; `kind` is `input`, `output`, `meta`, `error` or `info`.
 */
export function createLog() {
  const element = h("div", { class: "log", "aria-live": "polite" });
  let started = performance.now();
  return {
    element,
    add({ dir, kind, tag, value, text, rtt }) {
      const row = h(
        "div",
        { class: `entry ${dir} ${kind}`, "data-kind": kind, "data-tag": tag },
        h("span", { class: "t" }, `+${ms(performance.now() - started)}`),
        h("span", { class: "dir" }, dir === "out" ? "→" : dir === "in" ? "←" : "·"),
        h("span", { class: "tag" }, tag),
        text !== undefined ? h("pre", {}, text) : renderValue(value, { compact: true }),
        h("span", { class: "rtt" }, rtt ?? ""),
      );
      element.append(row);
      while (element.childElementCount > MAX_ROWS) element.firstElementChild?.remove();
      element.scrollTop = element.scrollHeight;
      return row;
    },
    clear() {
      element.replaceChildren();
      started = performance.now();
    },
    reset() {
      started = performance.now();
    },
  };
}
