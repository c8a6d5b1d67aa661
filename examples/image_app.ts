/**
 * An image-generation-style endpoint: realtime `/realtime` in mode `server_streaming` takes a
 * prompt, sends a progress frame per denoising step (`{ step, steps, progress }`), then the image
 * itself as PNG bytes (`{ image: Uint8Array, width, height }`: msgpack `bin`, no base64), and ends
 * the session. The "model" starts from noise seeded by the prompt and moves toward a gradient
 * step by step; put your pipeline's step callback in its place.
 *
 * Serve it with `deno run -A cli.ts serve examples/image_app.ts`; call it with
 * `deno run -A examples/image_client.ts [URL] [OUT.png]`.
 *
 * @module
 */
import { App } from "../server/mod.ts";
import { z } from "zod";
import { encodePng } from "./png.ts";

/** A generation request. */
export const Generate = z.object({
  prompt: z.string().min(1),
  steps: z.number().int().min(1).max(50).default(8),
  size: z.number().int().min(8).max(512).default(128),
});
/** A progress frame, then the final frame with the image. */
export const Frame = z.union([
  z.object({ step: z.number().int(), steps: z.number().int(), progress: z.number() }),
  z.object({ image: z.instanceof(Uint8Array), width: z.number(), height: z.number() }),
]);

/**
 * The stand-in pipeline: noise seeded by the prompt, blended toward a gradient over `steps`.
 *
 * @param input The request.
 * @param signal Aborts when the client disconnects or the server stops.
 * @returns Progress frames, then the PNG.
 */
export async function* generate(
  input: z.infer<typeof Generate>,
  signal: AbortSignal,
): AsyncGenerator<z.infer<typeof Frame>> {
  const { size, steps } = input;
  let seed = [...input.prompt].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 7);
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const rgba = new Uint8Array(size * size * 4).map((_, i) => i % 4 === 3 ? 255 : random() * 255);
  for (let step = 1; step <= steps; step++) {
    if (signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 1)); // a denoising step's GPU time
    const weight = 1 / (steps - step + 1);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (y * size + x) * 4;
        const target = [(x * 255) / size, (y * 255) / size, 160];
        for (let c = 0; c < 3; c++) rgba[i + c] += (target[c] - rgba[i + c]) * weight;
      }
    }
    yield { step, steps, progress: step / steps };
  }
  yield { image: encodePng(size, size, rgba), width: size, height: size };
}

export default new App({ name: "image-app" }).realtime(
  "/realtime",
  { input: Generate, output: Frame, mode: "server_streaming" },
  (input, ctx) => generate(input, ctx.signal),
);
