/**
 * The camera page's script, served as it is at `/client.js`: captures frames from the camera,
 * or draws a moving test pattern when there is none, numbers each frame in its pixels
 * (`/stamp.js`: 16 black/white blocks along the top-left edge), sends them to the server with
 * rally's browser client (`/rally.js`, a bundle of `client/mod.ts`) and shows the filtered
 * frames that come back, with live figures. Everything it measures is also written as JSON into
 * `#status`.
 *
 * Two transports, one measure. `websocket`: each frame's RGBA bytes go to the realtime endpoint
 * `/filter`, the filtered bytes come back and are drawn on a canvas. `webrtc`: the canvas is a
 * video track (one track frame per drawn frame: `MediaStreamTrackGenerator`, or `captureStream`) sent to `/filter/webrtc`,
 * whose video handler filters each frame and sends it back on its own track, shown in a
 * `<video>`; the filter goes over the DataChannel next to it. Either way the page reads the
 * frame number back from what it shows and takes glass-to-glass latency as the time from drawing
 * that frame to the rendered frame that shows its filtered copy: `requestVideoFrameCallback`'s
 * time for video, the next `requestAnimationFrame`'s after drawing it on the canvas otherwise.
 *
 * Plain JavaScript (the JSDoc types are for editors; `deno check` does not check it): a
 * TypeScript page would need the DOM's types, and `/// <reference lib="dom" />` would put
 * them into the type check of the whole repository, where they clash with Deno's.
 *
 * Query: `transport=websocket|webrtc`, `filter=edges|blur|gray`, `source=camera|pattern`,
 * `size=WIDTHxHEIGHT` (default 640x480 over webrtc, 320x240 over websocket; at least 256 wide
 * for the stamp), `fps=N` (default 30).
 *
 * @module
 */

/** rally's client bundle and the stamp, imported by URL at run time. */
const RALLY_BUNDLE = "/rally.js";
const STAMP_BUNDLE = "/stamp.js";
/** @type {typeof import("../../client/mod.ts")} */
const { connect } = await import(RALLY_BUNDLE);
/** @type {typeof import("./stamp.js")} */
const { readStampRgba, stampCanvas, STAMP_BLOCK, STAMP_BITS, STAMP_MODULO } = await import(
  STAMP_BUNDLE
);

/**
 * What the page writes into `#status`.
 *
 * @typedef {object} Status
 * @property {"camera" | "pattern" | "starting"} source Where frames come from.
 * @property {"websocket" | "webrtc"} transport How they travel.
 * @property {string} filter The filter asked for.
 * @property {number} width Frame width.
 * @property {number} height Frame height.
 * @property {number} sent Frames sent.
 * @property {number} shown Frames shown whose number was read back.
 * @property {number} presented Frames shown: for video, the `<video>`'s own count
 * (`presentedFrames`: a late page misses some `requestVideoFrameCallback` calls, not frames);
 * for websocket, frames drawn.
 * @property {number} sentSinceShown Frames sent since the first was shown.
 * @property {number} lost Frames sent but never shown: `sentSinceShown - presented`, less the
 * frames still on their way.
 * @property {number | null} latencyMs Median glass-to-glass latency over the last 300 frames, ms.
 * @property {number | null} p90Ms Its 90th percentile.
 * @property {number} fps Frames shown in the last second.
 * @property {number} serverDropped Frames the server's video handler skipped (webrtc).
 * @property {boolean} connected Whether the connection is open.
 * @property {number | null} firstFrameMs When the first frame was shown, in ms since the script
 * started (camera, connection and, for WebRTC, the peer's negotiation included).
 * @property {number} errors Errors rally reported.
 * @property {string | null} lastError The last of them.
 */

const started = performance.now();
const query = new URLSearchParams(location.search);
const transport = query.get("transport") === "webrtc" ? "webrtc" : "websocket";
const fps = Number(query.get("fps") ?? 30);
const TICK_MS = 1000 / fps;
const FILTERS = ["edges", "blur", "gray"];
const filter = FILTERS.includes(query.get("filter") ?? "") ? query.get("filter") : "edges";
const [width, height] = (query.get("size") ?? (transport === "webrtc" ? "640x480" : "320x240"))
  .split("x").map(Number);
/** Websocket: frames on their way at once; no more are sent until one comes back. */
const MAX_IN_FLIGHT = 2;
/** Latency samples kept (10 s at 30 fps). */
const WINDOW = 300;
/** Sent frames younger than this are still on their way, not lost. */
const IN_FLIGHT_MS = 1_000;

const input = /** @type {HTMLCanvasElement} */ (element("input"));
const output = /** @type {HTMLCanvasElement} */ (element("output"));
const outputVideo = /** @type {HTMLVideoElement} */ (element("output-video"));
for (const canvas of [input, output]) [canvas.width, canvas.height] = [width, height];
const inputContext = /** @type {CanvasRenderingContext2D} */ (
  input.getContext("2d", { willReadFrequently: transport === "websocket" })
);
const outputContext = /** @type {CanvasRenderingContext2D} */ (output.getContext("2d"));
/** Where returned video frames are drawn to read their number back. */
const reader = document.createElement("canvas");
[reader.width, reader.height] = [width, height];
const readerContext = /** @type {CanvasRenderingContext2D} */ (
  reader.getContext("2d", { willReadFrequently: true })
);
if (transport === "webrtc") {
  output.hidden = true;
  outputVideo.hidden = false;
}

/** @type {Status} */
const status = {
  source: "starting",
  transport,
  filter,
  width,
  height,
  sent: 0,
  shown: 0,
  presented: 0,
  sentSinceShown: 0,
  lost: 0,
  latencyMs: null,
  p90Ms: null,
  fps: 0,
  serverDropped: 0,
  connected: false,
  firstFrameMs: null,
  errors: 0,
  lastError: null,
};
/** @type {Map<number, number>} frame number → when it was drawn, for frames not yet shown */
const sentAt = new Map();
/** @type {number[]} */
const latencies = [];
/** @type {number[]} */
const shownAt = [];
/** The newest number shown (-1: none yet). */
let newestShown = -1;
/** The presented-frames count at the first frame shown, and now. */
let firstPresented = 0;
let presentedNow = 0;
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
      navigator.mediaDevices.getUserMedia({ video: { width, height }, audio: false }),
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
 * A moving test pattern: color bars, a sweeping bar and a bouncing ball.
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
  context.arc(
    width / 2 + Math.sin(t * 1.7) * width * 0.35,
    height / 2 + Math.cos(t * 2.3) * height * 0.3,
    Math.min(width, height) / 7,
    0,
    2 * Math.PI,
  );
  context.fill();
}

/**
 * @param {readonly number[]} values
 * @param {number} q 0..1
 * @returns {number | null}
 */
function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * A frame carrying number `n` is on screen now: count it, and count as lost the frames sent
 * before it that were never shown.
 *
 * @param {number} n
 * @param {number} now
 */
function shown(n, now) {
  const drawnAt = sentAt.get(n);
  if (drawnAt === undefined) return; // shown twice, or not a number this page sent
  sentAt.delete(n);
  for (const older of sentAt.keys()) if (older < n) sentAt.delete(older);
  if (newestShown < 0) firstPresented = presentedNow;
  newestShown = n;
  status.shown++;
  status.firstFrameMs ??= Math.round(now - started);
  latencies.push(now - drawnAt);
  if (latencies.length > WINDOW) latencies.shift();
  shownAt.push(now);
}

function render() {
  const now = performance.now();
  while (shownAt.length && now - shownAt[0] > 1000) shownAt.shift();
  status.fps = shownAt.length;
  status.presented = newestShown < 0 ? 0 : presentedNow - firstPresented + 1;
  status.lost = Math.max(0, status.sentSinceShown - status.presented - sentAt.size);
  status.latencyMs = quantile(latencies, 0.5);
  status.p90Ms = quantile(latencies, 0.9);
  const ms = (/** @type {number | null} */ value) =>
    value === null ? "–" : `${value.toFixed(1)} ms`;
  element("stat-latency").textContent = ms(status.latencyMs);
  element("stat-p90").textContent = ms(status.p90Ms);
  element("stat-fps").textContent = String(status.fps);
  element("stat-frames").textContent = String(status.shown);
  element("stat-lost").textContent = String(status.lost);
  element("stat-transport").textContent = transport;
  element("source-label").textContent = status.source;
  element("filter-label").textContent = filter;
  element("subtitle").textContent = transport === "webrtc"
    ? `${width}x${height} camera as a WebRTC video track (VP8), filtered by the server's video handler`
    : `${width}x${height} RGBA frames over a WebSocket`;
  element("error").textContent = status.lastError ?? "";
  element("status").textContent = JSON.stringify(status);
}

/** @param {import("../../client/mod.ts").RealtimeError} error */
function onError(error) {
  status.errors++;
  status.lastError = `${error.code}: ${error.reason}`;
  console.warn("rally:", error.code, error.reason);
}

// The links change one setting and keep the others.
for (const link of document.querySelectorAll(".controls a")) {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of new URLSearchParams(link.getAttribute("href") ?? "")) {
    params.set(name, value);
  }
  link.setAttribute("href", `?${params}`);
}

const camera = await openCamera();
status.source = camera ? "camera" : "pattern";

/** Draw the next frame with its number; returns the number. */
function draw() {
  const now = performance.now();
  if (camera) inputContext.drawImage(camera, 0, 0, width, height);
  else drawPattern(inputContext, now);
  const n = seq++ % STAMP_MODULO;
  stampCanvas(inputContext, n);
  return { n, now };
}

/** Forget frames so old they can only have been lost. */
function expire(now) {
  for (const [n, at] of sentAt) {
    if (now - at <= IN_FLIGHT_MS) break;
    sentAt.delete(n);
  }
}

/** Count a frame sent. */
function sent(n, now) {
  sentAt.set(n, now);
  status.sent++;
  if (newestShown >= 0) status.sentSinceShown++;
}

if (transport === "webrtc") {
  // One track frame per drawn frame: Chromium's MediaStreamTrackGenerator takes VideoFrames one
  // by one; elsewhere the canvas' own capture, asked for a frame after each draw (a busy page may
  // then have two draws captured as one).
  const Generator = /** @type {any} */ (globalThis).MediaStreamTrackGenerator;
  /** @type {MediaStreamTrack} */
  let track;
  /** @type {(now: number) => void} */
  let capture;
  if (Generator && globalThis.VideoFrame) {
    const generator = new Generator({ kind: "video" });
    const writer = generator.writable.getWriter();
    track = generator;
    capture = (now) => writer.write(new VideoFrame(input, { timestamp: Math.round(now * 1000) }));
  } else {
    [track] = input.captureStream(0).getVideoTracks();
    capture = () => /** @type {CanvasCaptureMediaStreamTrack} */ (track).requestFrame();
  }
  const stream = new MediaStream([track]);
  // Motion: under load the encoder keeps the frame rate and lowers the resolution instead.
  track.contentHint = "motion";
  const connection = connect(location.origin, {
    path: "/filter/webrtc",
    transport: "webrtc",
    video: stream,
    onTrack: (/** @type {RTCTrackEvent} */ event) => {
      outputVideo.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      outputVideo.play().catch(() => {});
    },
    onDropped: (/** @type {number} */ count) => status.serverDropped = count,
    onOpen: () => {
      status.connected = true;
      connection.send({ filter });
    },
    onClose: () => status.connected = false,
    onResult: () => {},
    onError,
  });
  addEventListener("pagehide", () => connection.close());
  /** @type {VideoFrameRequestCallback} */
  const onFrame = (now, metadata) => {
    presentedNow = metadata.presentedFrames;
    readerContext.drawImage(outputVideo, 0, 0, width, height);
    const strip = readerContext.getImageData(0, 0, STAMP_BITS * STAMP_BLOCK, STAMP_BLOCK).data;
    shown(readStampRgba(strip, STAMP_BITS * STAMP_BLOCK), now);
    outputVideo.requestVideoFrameCallback(onFrame);
  };
  outputVideo.requestVideoFrameCallback(onFrame);
  setInterval(() => {
    const { n, now } = draw();
    if (status.connected) {
      sent(n, now);
      capture(now);
    }
    expire(now);
    render();
  }, TICK_MS);
} else {
  const connection = connect(location.origin, {
    path: "/filter",
    onResult: (
      /** @type {{ frame: Uint8Array, width: number, height: number }} */ result,
    ) => {
      const { buffer, byteOffset, byteLength } = result.frame;
      const pixels = new Uint8ClampedArray(buffer, byteOffset, byteLength);
      outputContext.putImageData(new ImageData(pixels, result.width, result.height), 0, 0);
      presentedNow++;
      // On screen with the next rendered frame: timed at that frame, as the video track's
      // frames are (requestVideoFrameCallback), so that both transports' latencies compare.
      const n = readStampRgba(pixels, result.width);
      requestAnimationFrame((now) => shown(n, now));
    },
    onOpen: () => status.connected = true,
    onClose: () => status.connected = false,
    onError,
  });
  addEventListener("pagehide", () => connection.close());
  setInterval(() => {
    const { n, now } = draw();
    if (status.connected && sentAt.size < MAX_IN_FLIGHT) {
      const pixels = inputContext.getImageData(0, 0, width, height).data;
      const frame = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
      sent(n, now);
      connection.send({ frame, width, height, filter, radius: 4, gain: 2 });
    }
    expire(now);
    render();
  }, TICK_MS);
}
render();
