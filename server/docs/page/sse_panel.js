// SSE streaming endpoints: the events as they arrive, and Cancel.
import { stream, StreamError } from "../../../client/stream.ts";
import { HttpError } from "../../../protocol.ts";
import { h, message, ms } from "./dom.js";
import { inputEditor } from "./editor.js";
import { createLog } from "./log.js";

/**
 * The panel of an SSE streaming endpoint.
 *
 * @param {import("./main.js").PageContext} ctx The page.
 * @param {import("./main.js").PageRoute} route The route.
 * @returns {HTMLElement} The panel.
 */
export function ssePanel(ctx, route) {
  const editor = inputEditor(route.input, ctx.doc);
  const log = createLog();
  const status = h("p", { class: "status-line" });
  /** @type {AbortController | undefined} */
  let running;
  const cancel = h("button", {
    class: "cancel",
    disabled: true,
    onclick: () => running?.abort(new DOMException("cancelled", "AbortError")),
  }, "Cancel");
  const start = h("button", {
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
      const controller = running = new AbortController();
      start.disabled = true;
      cancel.disabled = false;
      log.clear();
      status.className = "status-line";
      status.textContent = "streaming…";
      const started = performance.now();
      let count = 0;
      const took = () => ms(performance.now() - started);
      try {
        for await (
          const event of stream(ctx.base, {
            path: route.path,
            input,
            signal: controller.signal,
            ...ctx.credentials.http(),
          })
        ) {
          count++;
          log.add({ dir: "in", kind: "output", tag: `event ${count}`, value: event });
        }
        status.className = "status-line ok";
        status.textContent = `ended · ${count} events · ${took()}`;
        log.add({ dir: "", kind: "info", tag: "end", text: "the stream ended" });
      } catch (error) {
        status.className = "status-line bad";
        if (controller.signal.aborted) {
          status.textContent = `cancelled · ${count} events · ${took()}`;
          log.add({ dir: "", kind: "info", tag: "cancel", text: "cancelled by you" });
        } else if (error instanceof StreamError) {
          status.textContent = `failed · ${count} events · ${took()}`;
          log.add({ dir: "in", kind: "error", tag: "error", value: { detail: error.detail } });
        } else if (error instanceof HttpError) {
          status.textContent = `${error.status} · ${took()}`;
          log.add({
            dir: "in",
            kind: "error",
            tag: `${error.status}`,
            value: { detail: error.detail },
          });
        } else {
          status.textContent = message(error);
        }
      } finally {
        running = undefined;
        start.disabled = false;
        cancel.disabled = true;
      }
    },
  }, "Start");
  return h(
    "section",
    { class: "panel sse" },
    editor.element,
    h(
      "div",
      { class: "row-buttons" },
      start,
      cancel,
      h("span", { class: "muted" }, `POST ${route.path} (text/event-stream)`),
    ),
    h("h3", {}, "Events"),
    status,
    log.element,
  );
}
