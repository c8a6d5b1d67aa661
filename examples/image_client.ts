/**
 * Asks `examples/image_app.ts` for an image, prints the progress and writes the PNG. Start the
 * app first, then: `deno run -A examples/image_client.ts [URL] [OUT.png]` (the URL defaults to
 * `http://127.0.0.1:$PORT`, port 8000; the file to `image.png`).
 *
 * @module
 */
import { realtime } from "../client/mod.ts";

type Frame = { step: number; steps: number; progress: number } | {
  image: Uint8Array;
  width: number;
  height: number;
};

const url = Deno.args[0] ?? `http://127.0.0.1:${Deno.env.get("PORT") ?? 8000}`;
const out = Deno.args[1] ?? "image.png";
await using conn = await realtime<{ prompt: string; steps: number }, Frame>(url);
conn.send({ prompt: "a lighthouse at dusk", steps: 10 });
for await (const frame of conn) {
  if ("image" in frame) {
    await Deno.writeFile(out, frame.image);
    console.log(`wrote ${out}: ${frame.width}x${frame.height}, ${frame.image.length} bytes`);
  } else {
    console.log(`step ${frame.step}/${frame.steps} (${Math.round(frame.progress * 100)} %)`);
  }
}
