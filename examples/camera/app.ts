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
 * `?transport=webrtc` sends the frames over a WebRTC DataChannel (signaling at
 * `/filter/webrtc`), `?filter=blur`, `?source=pattern` and `?size=320x240` change the rest.
 *
 * @module
 */
import { z } from "zod";
import { App, clientModule } from "../../server/mod.ts";
import { applyFilter, FILTERS } from "./filter.ts";

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
};

/** What `/` and `/client.js` answer, read by `setup()`. */
const assets = { html: "", script: "" };

async function setup(): Promise<void> {
  [assets.html, assets.script] = await Promise.all([
    Deno.readTextFile(files.page),
    Deno.readTextFile(files.script),
  ]);
}

function asset(body: () => string, type: string): () => Response {
  return () =>
    new Response(body(), {
      headers: { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" },
    });
}

const app = new App({ name: "camera", setup })
  .get("/", asset(() => assets.html, "text/html"))
  .get("/client.js", asset(() => assets.script, "text/javascript"))
  .get("/rally.js", clientModule())
  .realtime(
    "/filter",
    // buffering 1: while a frame is being filtered only the newest one waits; older ones drop.
    { input: FilterInput, output: FilterOutput, buffering: 1, maxMessageBytes: 4 * 1024 * 1024 },
    (input) => {
      const started = performance.now();
      const frame = applyFilter(input.frame, input);
      const filterMs = performance.now() - started;
      return { frame, width: input.width, height: input.height, seq: input.seq, filterMs };
    },
  )
  // `?transport=webrtc`: signaling here, then the same endpoint over a DataChannel.
  .webrtc("/filter/webrtc", { endpoint: "/filter" });

export default app;
