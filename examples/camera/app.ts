/**
 * Live camera filter: a page captures the camera (or draws a moving test pattern when there is
 * none), sends each frame's RGBA bytes to the realtime endpoint `/filter` through rally's
 * browser client, and draws what comes back: Sobel edges, a box blur or grayscale, computed
 * here in TypeScript (`filter.ts`). The App serves the page itself: `/` (`index.html`),
 * `/client.js` (the page's script) and `/rally.js` (rally's client, served by `clientModule()`:
 * bundled from `client/mod.ts` into memory on the first request).
 *
 * ```sh
 * deno task camera    # deno run -A cli.ts serve examples/camera/app.ts; open http://localhost:8000
 * ```
 *
 * `?transport=webrtc` sends the camera as a WebRTC video track instead (signaling at
 * `/filter/webrtc`): the server's `video` handler filters each frame's luma (`video_filter.ts`)
 * and sends it back on its own video track; the filter travels over the DataChannel next to the
 * video (`/filter/control`). `?filter=blur`, `?source=pattern` and `?size=320x240` change the
 * rest. Both transports measure glass-to-glass latency the same way: the page draws each frame's
 * number into its top-left pixels (`stamp.js`), and reads it back from what comes back.
 *
 * `CAMERA_ICE_CANDIDATES=loopback` (or `private`) restricts the ICE candidates the server's peer
 * checks (the browser test uses loopback).
 *
 * @module
 */
import { z } from "zod";
import { App, clientModule } from "../../server/mod.ts";
import { applyFilter, type FilterName, FILTERS } from "./filter.ts";
import { STAMP_BITS, STAMP_BLOCK } from "./stamp.js";
import { filterI420, STAMP_ROWS } from "./video_filter.ts";
import type { Context, IcePolicy } from "../../server/mod.ts";

/** The largest frame the endpoint takes, in pixels. */
export const MAX_PIXELS = 640 * 480;

/** One frame to filter. */
export const FilterInput = z.object({
  /** The pixels, RGBA, `width * height * 4` bytes. */
  frame: z.instanceof(Uint8Array),
  width: z.number().int().min(1).max(1920),
  height: z.number().int().min(1).max(1920),
  filter: z.enum(FILTERS),
  /** Box blur radius. */
  radius: z.number().int().min(0).max(16).optional(),
  /** Edge strength multiplier. */
  gain: z.number().min(0).max(16).optional(),
  /** The page's frame number, handed back with the output. */
  seq: z.number().int().min(0).optional(),
}).refine((input) => input.width * input.height <= MAX_PIXELS, {
  message: `A frame has at most ${MAX_PIXELS} pixels`,
}).refine((input) => input.frame.length === input.width * input.height * 4, {
  message: "frame must hold width * height * 4 bytes (RGBA)",
  path: ["frame"],
});

/** One filtered frame. */
export const FilterOutput = z.object({
  frame: z.instanceof(Uint8Array),
  width: z.number().int(),
  height: z.number().int(),
  seq: z.number().int().optional(),
  /** How long the filter took on the server, in ms. */
  filterMs: z.number(),
});

const files = {
  page: new URL("./index.html", import.meta.url),
  script: new URL("./client.js", import.meta.url),
  stamp: new URL("./stamp.js", import.meta.url),
};

/** What `/`, `/client.js` and `/stamp.js` answer, read by `setup()`. */
const assets = { html: "", script: "", stamp: "" };

async function setup(): Promise<void> {
  [assets.html, assets.script, assets.stamp] = await Promise.all([
    Deno.readTextFile(files.page),
    Deno.readTextFile(files.script),
    Deno.readTextFile(files.stamp),
  ]);
}

function asset(body: () => string, type: string): () => Response {
  return () =>
    new Response(body(), {
      headers: { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" },
    });
}

/** The filter each WebRTC session asked for (its DataChannel and its video share one context). */
const videoFilters = new WeakMap<Context, FilterName>();

const app = new App({ name: "camera", setup })
  .get("/", asset(() => assets.html, "text/html"))
  .get("/client.js", asset(() => assets.script, "text/javascript"))
  .get("/stamp.js", asset(() => assets.stamp, "text/javascript"))
  .get("/rally.js", clientModule())
  .realtime(
    "/filter",
    // buffering 1: while a frame is being filtered only the newest one waits; older ones drop.
    { input: FilterInput, output: FilterOutput, buffering: 1, maxMessageBytes: 4 * 1024 * 1024 },
    (input) => {
      const started = performance.now();
      const frame = applyFilter(input.frame, input);
      // The frame-number strip at the top goes back unfiltered, for the page's latency measure
      // (frames narrower than the strip carry none).
      if (input.width >= STAMP_BITS * STAMP_BLOCK) {
        frame.set(input.frame.subarray(0, Math.min(STAMP_ROWS, input.height) * input.width * 4));
      }
      const filterMs = performance.now() - started;
      return { frame, width: input.width, height: input.height, seq: input.seq, filterMs };
    },
  )
  // `?transport=webrtc`: the filter for this peer's video, sent over its DataChannel.
  .realtime("/filter/control", { input: z.object({ filter: z.enum(FILTERS) }) }, (input, ctx) => {
    videoFilters.set(ctx, input.filter);
    return { filter: input.filter };
  })
  // `?transport=webrtc`: signaling here; each frame of the page's video track is filtered and
  // sent back on the server's.
  .webrtc("/filter/webrtc", {
    endpoint: "/filter/control",
    video: (frame, ctx) => filterI420(frame, videoFilters.get(ctx) ?? "edges"),
    iceCandidates: (Deno.env.get("CAMERA_ICE_CANDIDATES") as IcePolicy | undefined) ?? "any",
    // A LAN demo: start the encoders at 2 Mbps instead of ramping up from 300 kbps.
    videoBitrate: { start: 2000, min: 1000 },
  });

export default app;
