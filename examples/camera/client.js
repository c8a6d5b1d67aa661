/**
 * The camera page's script, served as it is at `/client.js`: captures frames from the camera,
 * or draws a moving test pattern when there is none, sends them to `/filter` with rally's
 * browser client (`/rally.js`, a bundle of `client/mod.ts`) and draws the filtered frames that
 * come back, with live figures: median round trip, fps, frames round-tripped, dropped frames,
 * source, transport. Everything it measures is also written as JSON into `#status`.
 *
 * Plain JavaScript (the JSDoc types are for editors; `deno check` does not check it): a
 * TypeScript page would need the DOM's types, and `/// <reference lib="dom" />` would put
 * them into the type check of the whole repository, where they clash with Deno's.
 *
 * Query: `transport=websocket|webrtc`, `filter=edges|blur|gray`, `source=camera|pattern`,
 * `size=WIDTHxHEIGHT` (default 256x192, which keeps a frame under a DataChannel message's
 * 256 KiB), `throttle=MS` (the client's throttle interval; default a 30 fps tick),
 * `ordered=true` (WebRTC: a reliable, ordered DataChannel instead of latest-wins).
 *
 * @module
 */

/** rally's client bundle, imported by URL at run time. */
const RALLY_BUNDLE = "/rally.js";
/** @type {typeof import("../../client/mod.ts")} */
const { connect } = await import(RALLY_BUNDLE);

/**
 * What the page writes into `#status`.
 *
 * @typedef {object} Status
 * @property {"camera" | "pattern" | "starting"} source Where frames come from.
 * @property {"websocket" | "webrtc"} transport How they travel.
 * @property {string} filter The filter asked for.
 * @property {number} width Frame width.
 * @property {number} height Frame height.
 * @property {number} frames Frames sent whose output came back.
 * @property {number} dropped Frames sent whose output never came (a newer one's came first:
 * the latest wins) or came too late.
 * @property {number} sent Frames sent.
 * @property {number | null} rttMs Median round trip of the last 30 frames, ms.
 * @property {number | null} filterMs Median time the server's filter took, ms.
 * @property {number} fps Outputs drawn in the last second.
 * @property {boolean} connected Whether the connection is open.
 * @property {number | null} firstFrameMs When the first output came, in ms since the script
 * started (camera, connection and, for WebRTC, the peer's negotiation included).
 * @property {number} errors Errors rally reported.
 * @property {string | null} lastError The last of them.
 */

const started = performance.now();
const TICK_MS = 1000 / 30;
/** Frames on their way at once: no more are captured until one comes back. */
const MAX_IN_FLIGHT = 2;
/** A frame whose output has not come back by then counts as dropped. */
const STALE_MS = 2_000;
/** Frames the medians are taken over. */
const WINDOW = 30;
const FILTERS = ["edges", "blur", "gray"];

const query = new URLSearchParams(location.search);
const transport = query.get("transport") === "webrtc" ? "webrtc" : "websocket";
const filter = FILTERS.includes(query.get("filter") ?? "") ? query.get("filter") : "edges";
const [width, height] = (query.get("size") ?? "256x192").split("x").map(Number);
const throttleInterval = Number(query.get("throttle") ?? TICK_MS);

const input = /** @type {HTMLCanvasElement} */ (element("input"));
const output = /** @type {HTMLCanvasElement} */ (element("output"));
for (const canvas of [input, output]) [canvas.width, canvas.height] = [width, height];
const inputContext = input.getContext("2d", { willReadFrequently: true });
const outputContext = output.getContext("2d");

/** @type {Status} */
const status = {
  source: "starting",
  transport,
  filter,
  width,
  height,
  frames: 0,
  dropped: 0,
  sent: 0,
  rttMs: null,
  filterMs: null,
  fps: 0,
  connected: false,
  firstFrameMs: null,
  errors: 0,
  lastError: null,
};
/** @type {Map<number, number>} frame number → when it was captured */
const inFlight = new Map();
/** @type {number[]} */
const rtts = [];
/** @type {number[]} */
const filterTimes = [];
/** @type {number[]} */
const shownAt = [];
let seq = 0;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/**
 * The camera, playing; `undefined` when there is none or it is refused.
 *
 * @returns {Promise<HTMLVideoElement | undefined>}
 */
async function openCamera() {
  if (query.get("source") === "pattern" || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const stream = await Promise.race([
      navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 5 s")), 5_000)),
    ]);
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    return video;
  } catch (error) {
    console.info("camera unavailable, drawing a test pattern:", error);
    return undefined;
  }
}

/**
 * A moving test pattern: color bars, a sweeping bar, a bouncing ball and the time.
 *
 * @param {CanvasRenderingContext2D} context
 * @param {number} now
 */
function drawPattern(context, now) {
  const colors = ["#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0"];
  const bar = width / colors.length;
  colors.forEach((color, i) => {
    context.fillStyle = color;
    context.fillRect(i * bar, 0, bar + 1, height);
  });
  const t = now / 1000;
  context.fillStyle = "#101010";
  context.fillRect(((t * 60) % (width + 40)) - 40, 0, 40, height);
  context.beginPath();
  context.fillStyle = "#ffffff";
  const x = width / 2 + Math.sin(t * 1.7) * width * 0.35;
  const y = height / 2 + Math.cos(t * 2.3) * height * 0.3;
  context.arc(x, y, Math.min(width, height) / 7, 0, 2 * Math.PI);
  context.fill();
  context.font = `${Math.round(height / 8)}px monospace`;
  context.fillStyle = "#000000";
  context.fillText(t.toFixed(1), 8, height - 10);
}

/**
 * @param {readonly number[]} values
 * @returns {number | null}
 */
function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * @param {number[]} values
 * @param {number} value
 */
function remember(values, value) {
  values.push(value);
  if (values.length > WINDOW) values.shift();
}

function render() {
  const now = performance.now();
  while (shownAt.length && now - shownAt[0] > 1000) shownAt.shift();
  status.fps = shownAt.length;
  status.rttMs = median(rtts);
  status.filterMs = median(filterTimes);
  element("stat-rtt").textContent = status.rttMs === null ? "–" : `${status.rttMs.toFixed(1)} ms`;
  element("stat-fps").textContent = String(status.fps);
  element("stat-frames").textContent = String(status.frames);
  element("stat-dropped").textContent = String(status.dropped);
  element("stat-source").textContent = status.source;
  element("stat-transport").textContent = status.transport;
  element("source-label").textContent = status.source;
  element("filter-label").textContent = filter;
  element("subtitle").textContent = `${width}x${height} RGBA frames over ${transport}` +
    (status.filterMs === null ? "" : `, server filter ${status.filterMs.toFixed(1)} ms`);
  element("error").textContent = status.lastError ?? "";
  element("status").textContent = JSON.stringify(status);
}

/**
 * Draw one filtered frame and count it.
 *
 * @param {{ frame: Uint8Array, width: number, height: number, seq?: number, filterMs: number }} result
 */
function onResult(result) {
  const now = performance.now();
  const sentAt = result.seq === undefined ? undefined : inFlight.get(result.seq);
  if (sentAt === undefined) return; // came after a newer frame's output: counted as dropped
  // Latest wins: frames sent before this one whose outputs have not come were dropped.
  for (const older of inFlight.keys()) {
    if (older < result.seq) {
      inFlight.delete(older);
      status.dropped++;
    }
  }
  inFlight.delete(result.seq);
  status.frames++;
  status.firstFrameMs ??= Math.round(now - started);
  remember(rtts, now - sentAt);
  remember(filterTimes, result.filterMs);
  shownAt.push(now);
  const { buffer, byteOffset, byteLength } = result.frame;
  const pixels = new Uint8ClampedArray(buffer, byteOffset, byteLength);
  outputContext.putImageData(new ImageData(pixels, result.width, result.height), 0, 0);
}

// The links change one setting and keep the others.
for (const link of document.querySelectorAll(".controls a")) {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of new URLSearchParams(link.getAttribute("href") ?? "")) {
    params.set(name, value);
  }
  link.setAttribute("href", `?${params}`);
}

const video = await openCamera();
status.source = video ? "camera" : "pattern";

const connection = connect(location.origin, {
  path: transport === "webrtc" ? "/filter/webrtc" : "/filter",
  // Latest wins on the way out: at most one frame per interval; a newer one replaces a waiting one.
  throttleInterval,
  onResult,
  onOpen: () => status.connected = true,
  onClose: () => status.connected = false,
  onError: (error) => {
    status.errors++;
    status.lastError = `${error.code}: ${error.reason}`;
    console.warn("rally:", error.code, error.reason);
  },
  // Over WebRTC: by default an unordered DataChannel without retransmits (latest wins: late
  // frames are skipped); `?ordered=true` asks for a reliable, ordered one.
  ...(transport === "webrtc" && { transport: "webrtc", ordered: query.get("ordered") === "true" }),
});
addEventListener("pagehide", () => connection.close());

/** Capture and send a frame (unless too many are on their way), then show the figures. */
function tick() {
  const now = performance.now();
  for (const [sent, at] of inFlight) {
    if (now - at > STALE_MS) {
      inFlight.delete(sent);
      status.dropped++;
    }
  }
  if (video) inputContext.drawImage(video, 0, 0, width, height);
  else drawPattern(inputContext, now);
  if (inFlight.size < MAX_IN_FLIGHT) {
    const pixels = inputContext.getImageData(0, 0, width, height).data;
    const frame = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    inFlight.set(++seq, now);
    status.sent++;
    connection.send({ frame, width, height, filter, seq, radius: 4, gain: 2 });
  }
  render();
}

setInterval(tick, TICK_MS);
render();
