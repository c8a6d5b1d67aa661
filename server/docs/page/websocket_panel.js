// Raw WebSocket endpoints: text and binary sends, and a log of what comes back.
import { h, message, size } from "./dom.js";
import { createLog } from "./log.js";
import { openRouteSocket } from "./socket.js";

/**
 * The panel of a raw WebSocket endpoint.
 *
 * @param {import("./main.js").PageContext} ctx The page.
 * @param {import("./main.js").PageRoute} route The route.
 * @returns {HTMLElement} The panel.
 */
export function websocketPanel(ctx, route) {
  const log = createLog();
  const state = h("span", { class: "state muted" }, "disconnected");
  const text = h("textarea", {
    class: "message",
    rows: 3,
    spellcheck: "false",
    "aria-label": "message",
  });
  text.value = "hello";
  /** @type {Uint8Array | undefined} */
  let file;
  const fileInfo = h("span", { class: "muted" }, "");
  const picker = h("input", {
    type: "file",
    async onchange(event) {
      const chosen = event.target.files?.[0];
      file = chosen ? new Uint8Array(await chosen.arrayBuffer()) : undefined;
      fileInfo.textContent = file ? `${chosen.name}, ${size(file.length)}` : "";
    },
  });
  /** @type {WebSocket | undefined} */
  let socket;
  const connect = h("button", { class: "primary connect", onclick: open }, "Connect");
  const disconnect = h("button", {
    class: "disconnect",
    disabled: true,
    onclick: () => socket?.close(1000),
  }, "Disconnect");
  const sendText = h("button", {
    class: "send-text",
    disabled: true,
    onclick: () => send(text.value),
  }, "Send text");
  const sendBytes = h("button", {
    class: "send-bytes",
    disabled: true,
    onclick: () => send(file ?? new TextEncoder().encode(text.value)),
  }, "Send bytes");

  function setOpen(open) {
    connect.disabled = open;
    disconnect.disabled = sendText.disabled = sendBytes.disabled = !open;
    state.textContent = open ? "connected" : "disconnected";
  }

  function send(data) {
    try {
      socket?.send(data);
      log.add({
        dir: "out",
        kind: "input",
        tag: typeof data === "string" ? "text" : "bytes",
        value: data,
      });
    } catch (error) {
      log.add({ dir: "", kind: "error", tag: "send", text: message(error) });
    }
  }

  async function open() {
    connect.disabled = true;
    state.textContent = "connecting…";
    log.clear();
    socket = await openRouteSocket(ctx, route, log, {
      label: route.path,
      onMessage(raw) {
        const data = typeof raw === "string" ? raw : new Uint8Array(raw);
        log.add({
          dir: "in",
          kind: "output",
          tag: typeof data === "string" ? "text" : "bytes",
          value: data,
        });
      },
      onClose(closed) {
        if (socket === closed) socket = undefined;
        setOpen(false);
      },
    });
    setOpen(socket !== undefined);
  }

  return h(
    "section",
    { class: "panel websocket" },
    h(
      "div",
      { class: "row-buttons" },
      connect,
      disconnect,
      state,
      h("span", { class: "muted" }, `WebSocket ${route.path} · raw`),
    ),
    h("h3", {}, "Message"),
    text,
    h("div", { class: "row-buttons" }, sendText, sendBytes, picker, fileInfo),
    h("h3", {}, "Messages"),
    log.element,
  );
}
