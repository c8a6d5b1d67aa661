// The playground page: reads the App's own /openapi.json, lists its routes by kind, and opens
// one panel per route, each speaking to the endpoint with rally's client.
import { Credentials } from "./credentials.js";
import { h, message } from "./dom.js";
import { httpPanel } from "./http_panel.js";
import { realtimePanel } from "./realtime_panel.js";
import { ssePanel } from "./sse_panel.js";
import { websocketPanel } from "./websocket_panel.js";

/**
 * @typedef {object} PageContext
 * @property {string} base The App's base URL.
 * @property {string} app The App's name.
 * @property {any} doc Its OpenAPI document.
 * @property {Credentials} credentials The key or token to send.
 */
/**
 * @typedef {object} PageRoute
 * @property {string} path The path.
 * @property {"http" | "sse" | "realtime" | "websocket" | "webrtc"} kind Its kind.
 * @property {any} [input] Its input's JSON Schema.
 * @property {any} [protocol] Its `x-fal-protocol`.
 */

const KINDS = [
  { kind: "http", title: "HTTP", panel: httpPanel },
  { kind: "sse", title: "SSE streams", panel: ssePanel },
  { kind: "realtime", title: "Realtime", panel: realtimePanel },
  { kind: "websocket", title: "WebSocket", panel: websocketPanel },
  { kind: "webrtc", title: "WebRTC signaling", panel: webrtcNote },
];

const root = document.getElementById("app");
const nav = document.getElementById("routes");
const panel = document.getElementById("panel");
const status = document.getElementById("status");
const field = document.getElementById("credentials");
const docsPath = root.dataset.docs ?? "/docs";
const prefix = location.pathname.endsWith(docsPath)
  ? location.pathname.slice(0, -docsPath.length)
  : "";
const base = `${location.origin}${prefix}`;
const query = new URLSearchParams(location.search);
const credentials = new Credentials(query.get("fal_jwt_token") ?? query.get("token") ?? "");
field.value = credentials.value;

document.getElementById("credentials-form").addEventListener("submit", (event) => {
  event.preventDefault();
  credentials.value = field.value;
  load();
});

/**
 * The routes of an OpenAPI document, by kind.
 *
 * @param {any} doc The document.
 * @returns {PageRoute[]} The routes.
 */
function routesOf(doc) {
  /** @type {PageRoute[]} */
  const routes = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const protocol = item["x-fal-protocol"];
    if (protocol) {
      const kind = protocol.type === "realtime" || protocol.type === "webrtc"
        ? protocol.type
        : "websocket";
      routes.push({ path, kind, protocol, input: item.get?.["x-rally-messages"]?.input });
    } else if (item.post) {
      const response = item.post.responses?.["200"]?.content ?? {};
      const body = item.post.requestBody?.content ?? {};
      routes.push({
        path,
        kind: "text/event-stream" in response ? "sse" : "http",
        input: (body["application/json"] ?? body["application/msgpack"])?.schema,
      });
    }
  }
  return routes;
}

function show(text, bad = false) {
  status.textContent = text;
  status.className = bad ? "bad" : "";
}

async function load() {
  show("Loading /openapi.json…");
  let doc;
  try {
    const response = await fetch(`${base}/openapi.json`, { headers: credentials.headers() });
    if (!response.ok) {
      const detail = (await response.json().catch(() => ({}))).detail ?? response.statusText;
      nav.replaceChildren(h("p", { class: "muted" }, `${response.status}: ${detail}`));
      panel.replaceChildren(
        h("p", {}, response.status === 401 ? "Enter a key or a token above." : ""),
      );
      show(`/openapi.json answered ${response.status}`, true);
      return;
    }
    doc = await response.json();
  } catch (error) {
    show(`Cannot load /openapi.json: ${message(error)}`, true);
    return;
  }
  const app = doc.info?.title ?? "rally";
  document.getElementById("title").textContent = `${app} ${doc.info?.version ?? ""}`;
  document.title = `${app}: rally playground`;
  /** @type {PageContext} */
  const ctx = { base, app, doc, credentials };
  const routes = routesOf(doc);
  const buttons = new Map();
  const select = (route) => {
    for (const [key, button] of buttons) button.setAttribute("aria-current", String(key === route));
    const kind = KINDS.find((k) => k.kind === route.kind);
    panel.replaceChildren(
      h(
        "h2",
        {},
        h("code", {}, route.path),
        h("span", { class: "kind" }, kind.title),
      ),
      kind.panel(ctx, route),
    );
    history.replaceState(
      null,
      "",
      `${location.pathname}${location.search}#${route.kind}:${route.path}`,
    );
  };
  nav.replaceChildren();
  for (const { kind, title } of KINDS) {
    const group = routes.filter((route) => route.kind === kind);
    if (group.length === 0) continue;
    nav.append(h("h3", {}, title));
    for (const route of group) {
      const mode = route.protocol?.realtimeMode;
      const button = h(
        "button",
        {
          class: "route",
          "data-kind": kind,
          "data-path": route.path,
          onclick: () => select(route),
        },
        route.path,
        mode && mode !== "unary" ? h("span", { class: "mode" }, mode) : null,
      );
      buttons.set(route, button);
      nav.append(button);
    }
  }
  if (routes.length === 0) nav.append(h("p", { class: "muted" }, "This app has no routes yet."));
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = routes.find((route) => `${route.kind}:${route.path}` === wanted) ?? routes[0];
  if (first) select(first);
  show(`${routes.length} routes from /openapi.json`);
  root.dataset.ready = "true";
}

function webrtcNote(_ctx, route) {
  return h(
    "p",
    { class: "muted" },
    `The signaling socket of a WebRTC endpoint (its realtime route is ${route.protocol?.endpoint}):` +
      " try that realtime route here, or a WebRTC client such as the camera demo.",
  );
}

load();
