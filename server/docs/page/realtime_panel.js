// Realtime endpoints: connect and disconnect, send one input or a burst, `end` for streaming
// modes, and a log of every frame in and out, decoded with rally's client (outputs, `hello` and
// other meta frames, error frames), with the round trip of each input.
import { encodeInput, readFrame } from "../../../client/frames.ts";
import { END_OF_INPUT } from "../../../protocol.ts";
import { h, message, ms, size } from "./dom.js";
import { inputEditor } from "./editor.js";
import { createLog } from "./log.js";
import { openRouteSocket } from "./socket.js";

/** The largest burst the page sends at once. */
const MAX_BURST = 1000;

/**
 * The panel of a realtime endpoint.
 *
 * @param {import("./main.js").PageContext} ctx The page.
 * @param {import("./main.js").PageRoute} route The route (`protocol` is its `x-fal-protocol`).
 * @returns {HTMLElement} The panel.
 */
export function realtimePanel(ctx, route) {
  const mode = route.protocol?.realtimeMode ?? "unary";
  const editor = inputEditor(route.input, ctx.doc);
  const log = createLog();
  const state = h("span", { class: "state muted" }, "disconnected");
  const limits = h("p", { class: "limits" }, "Limits: announced by the server's hello on connect.");
  /** @type {WebSocket | undefined} */
  let socket;
  let maxBytes = Infinity;
  /** Whether the server may drop inputs (its `buffering` from hello is finite). */
  let mayDrop = true;
  let sent = 0;
  /** Inputs waiting for their answer, oldest first (unary mode: answers come in this order). */
  /** @type {{ n: number, at: number }[]} */
  let waiting = [];
  let lastSent = 0;

  const connect = h("button", { class: "primary connect", onclick: open }, "Connect");
  const disconnect = h("button", {
    class: "disconnect",
    disabled: true,
    onclick: () => socket?.close(1000),
  }, "Disconnect");
  const send = h("button", { class: "send", disabled: true, onclick: () => sendInputs(1) }, "Send");
  const count = h("input", {
    type: "number",
    min: 1,
    max: MAX_BURST,
    value: 10,
    "aria-label": "burst size",
  });
  const burst = h("button", {
    class: "burst",
    disabled: true,
    onclick: () => sendInputs(Math.min(MAX_BURST, Math.max(1, Number(count.value) || 1))),
  }, "Send burst of");
  const streaming = mode === "client_streaming" || mode === "bidi";
  const end = streaming
    ? h("button", {
      class: "end",
      disabled: true,
      onclick() {
        socket?.send(END_OF_INPUT);
        log.add({ dir: "out", kind: "meta", tag: "end", text: END_OF_INPUT });
      },
    }, "End input")
    : null;

  function setOpen(open) {
    connect.disabled = open;
    disconnect.disabled = !open;
    send.disabled = burst.disabled = !open;
    if (end) end.disabled = !open;
    state.textContent = open ? "connected" : "disconnected";
  }

  async function open() {
    connect.disabled = true;
    state.textContent = "connecting…";
    log.clear();
    sent = 0;
    waiting = [];
    maxBytes = Infinity;
    mayDrop = true;
    socket = await openRouteSocket(ctx, route, log, {
      label: `${route.path} (${mode})`,
      onMessage: receive,
      onClose(closed) {
        if (socket === closed) socket = undefined;
        setOpen(false);
      },
    });
    setOpen(socket !== undefined);
  }

  function sendInputs(n) {
    let input;
    try {
      input = editor.read();
    } catch (error) {
      log.add({ dir: "", kind: "error", tag: "input", text: message(error) });
      return;
    }
    try {
      for (let i = 0; i < n; i++) {
        // Encoded by rally's client: refused here when over the limit from hello.
        const bytes = encodeInput(input, maxBytes);
        const length = bytes.length;
        socket?.send(bytes);
        sent++;
        lastSent = performance.now();
        waiting.push({ n: sent, at: lastSent });
        if (n === 1) {
          log.add({
            dir: "out",
            kind: "input",
            tag: `input #${sent}`,
            value: input,
            rtt: `${size(length)} msgpack`,
          });
        }
      }
      if (n > 1) {
        log.add({
          dir: "out",
          kind: "input",
          tag: `burst ×${n}`,
          text: `inputs #${sent - n + 1}–#${sent}: ${JSON.stringify(input)}`,
        });
      }
    } catch (error) {
      log.add({ dir: "", kind: "error", tag: "local", text: message(error) });
    }
  }

  /** The round trip of the input an answer belongs to. */
  function roundTrip() {
    const now = performance.now();
    if (mode !== "unary") return `+${ms(now - lastSent)} after #${sent}`;
    // With several inputs waiting on a server that drops, the answer is matched to the oldest
    // one the page does not know to be dropped: likely, not certain (marked ≈).
    const unsure = mayDrop && waiting.length > 1;
    const input = waiting.shift();
    return input ? `${unsure ? "≈" : ""}#${input.n} · rtt ${ms(now - input.at)}` : "";
  }

  function receive(data) {
    let frame;
    try {
      frame = readFrame(data);
    } catch (error) {
      log.add({ dir: "in", kind: "error", tag: "decode", text: message(error) });
      return;
    }
    if (frame.kind === "output") {
      log.add({ dir: "in", kind: "output", tag: "output", value: frame.value, rtt: roundTrip() });
    } else if (frame.kind === "meta") {
      const meta = frame.meta;
      if (meta.action === "hello") {
        const l = meta.limits ?? {};
        maxBytes = l.maxMessageBytes ?? Infinity;
        mayDrop = l.buffering != null;
        limits.textContent = `Limits: maxMessageBytes ${size(l.maxMessageBytes ?? 0)} · buffering ${
          l.buffering ?? "unbounded"
        } · maxBatchSize ${l.maxBatchSize ?? 1} · sessionTimeout ${
          l.sessionTimeout == null ? "none" : `${l.sessionTimeout} s`
        }`;
      } else if (meta.action === "dropped" && mode === "unary") {
        // The oldest waiting inputs behind the one in the handler were dropped (latest wins).
        const count = Number(meta.count) || 0;
        waiting.splice(waiting.length > count ? 1 : 0, count);
      }
      log.add({ dir: "in", kind: "meta", tag: meta.action, text: data });
    } else {
      const code = frame.error.code;
      const rtt = code === "TIMEOUT" ? "" : roundTrip();
      log.add({ dir: "in", kind: "error", tag: code, text: data, rtt });
    }
  }

  return h(
    "section",
    { class: "panel realtime", "data-mode": mode },
    h(
      "div",
      { class: "row-buttons" },
      connect,
      disconnect,
      state,
      h("span", { class: "muted" }, `WebSocket ${route.path} · msgpack · ${mode}`),
    ),
    limits,
    editor.element,
    h("div", { class: "row-buttons" }, send, burst, count, end),
    h("h3", {}, "Frames"),
    log.element,
  );
}
