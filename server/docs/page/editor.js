// The input editor: a JSON text area pre-filled from the input schema, and one file picker per
// bytes field (shown as its size and a preview once chosen).
import { h, size } from "./dom.js";
import { bytesFields, startingInput } from "./schema.js";
import { bytesPreview } from "./values.js";

/**
 * Make an input editor.
 *
 * @param {any} schema The input schema (may be undefined).
 * @param {any} doc The OpenAPI document.
 * @returns {{ element: HTMLElement, read(): unknown }} The editor; `read()` throws a
 * SyntaxError for text that is not JSON.
 */
export function inputEditor(schema, doc) {
  const start = startingInput(schema, doc);
  const text = h("textarea", { class: "json", spellcheck: "false", "aria-label": "input (JSON)" });
  text.value = JSON.stringify(start, null, 2);
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  const rows = bytesFields(schema, doc).map((field) => {
    const shown = h("span", { class: "muted" }, "no file");
    const picker = h("input", {
      type: "file",
      "data-field": field.name,
      accept: field.type,
      async onchange(event) {
        const file = event.target.files?.[0];
        if (!file) return;
        const bytes = new Uint8Array(await file.arrayBuffer());
        files.set(field.name, bytes);
        shown.replaceChildren(bytesPreview(bytes, `${file.name}, ${size(bytes.length)}`));
      },
    });
    return h(
      "div",
      { class: "bytes-field" },
      h("b", {}, field.name),
      h("span", { class: "muted" }, `bytes${field.required ? ", required" : ""}`),
      picker,
      shown,
    );
  });
  return {
    element: h(
      "div",
      { class: "editor" },
      h("h3", {}, "Input"),
      text,
      ...rows,
    ),
    read() {
      const source = text.value.trim();
      let value;
      try {
        value = source === "" ? {} : JSON.parse(source);
      } catch (error) {
        throw new SyntaxError(`The input is not JSON: ${error.message}`);
      }
      if (files.size > 0 && value && typeof value === "object" && !Array.isArray(value)) {
        for (const [name, bytes] of files) value[name] = bytes;
      }
      return value;
    },
  };
}
