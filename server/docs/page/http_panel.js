// HTTP endpoints: a JSON editor, Send, and the response with its status and time.
import { run } from "../../../client/http.ts";
import { HttpError } from "../../../protocol.ts";
import { h, message, ms } from "./dom.js";
import { inputEditor } from "./editor.js";
import { renderValue } from "./values.js";

/**
 * The panel of an HTTP endpoint.
 *
 * @param {import("./main.js").PageContext} ctx The page.
 * @param {import("./main.js").PageRoute} route The route.
 * @returns {HTMLElement} The panel.
 */
export function httpPanel(ctx, route) {
  const editor = inputEditor(route.input, ctx.doc);
  const status = h("p", { class: "status-line" });
  const result = h("div", { class: "result" });
  const send = h("button", {
    class: "primary send",
    async onclick() {
      let input;
      try {
        input = editor.read();
      } catch (error) {
        status.className = "status-line bad";
        status.textContent = message(error);
        return;
      }
      send.disabled = true;
      const started = performance.now();
      try {
        // msgpack carries bytes fields as they are (JSON cannot).
        const output = await run(ctx.base, {
          path: route.path,
          input,
          format: "msgpack",
          ...ctx.credentials.http(),
        });
        status.className = "status-line ok";
        status.textContent = `200 OK · ${ms(performance.now() - started)}`;
        result.replaceChildren(renderValue(output));
      } catch (error) {
        status.className = "status-line bad";
        if (error instanceof HttpError) {
          status.textContent = `${error.status} · ${ms(performance.now() - started)}`;
          result.replaceChildren(renderValue({ detail: error.detail }));
        } else {
          status.textContent = message(error);
          result.replaceChildren();
        }
      } finally {
        send.disabled = false;
      }
    },
  }, "Send");
  return h(
    "section",
    { class: "panel http" },
    editor.element,
    h("div", { class: "row-buttons" }, send, h("span", { class: "muted" }, `POST ${route.path}`)),
    h("h3", {}, "Response"),
    status,
    result,
  );
}
