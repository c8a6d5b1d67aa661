// Small DOM helpers for the playground page (plain DOM, no framework).

/**
 * Make an element.
 *
 * @param {string} tag The tag name.
 * @param {Record<string, unknown>} [attrs] Attributes; `on*` functions become listeners.
 * @param {...(Node | string | null | undefined | false)} children Its children.
 * @returns {HTMLElement} The element.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/**
 * Milliseconds as text.
 *
 * @param {number} ms The time.
 * @returns {string} e.g. `"3.2 ms"`.
 */
export function ms(ms) {
  return ms < 10
    ? `${ms.toFixed(2)} ms`
    : ms < 1000
    ? `${ms.toFixed(1)} ms`
    : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * A byte count as text.
 *
 * @param {number} n Bytes.
 * @returns {string} e.g. `"12.3 KiB"`.
 */
export function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A message for any thrown value.
 *
 * @param {unknown} error What was thrown.
 * @returns {string} Its message.
 */
export function message(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
