/**
 * Prints the answer of `examples/token_stream.ts` token by token, over SSE and then over
 * realtime. Start the app first, then: `deno run -A examples/token_client.ts [URL]` (the URL
 * defaults to `http://127.0.0.1:$PORT`, port 8000).
 *
 * @module
 */
import { realtime, stream } from "../client/mod.ts";

const url = Deno.args[0] ?? `http://127.0.0.1:${Deno.env.get("PORT") ?? 8000}`;
const input = { prompt: "tokens one at a time streams model every like answer" };
const encoder = new TextEncoder();

// SSE: one event per token; the loop ends with the response.
await Deno.stdout.write(encoder.encode("sse: "));
for await (const { token } of stream<{ token: string }>(url, { path: "/complete", input })) {
  await Deno.stdout.write(encoder.encode(token));
}

// Realtime, server_streaming: one input, one frame per token, then the session ends.
await Deno.stdout.write(encoder.encode("\nrealtime: "));
{
  await using conn = await realtime<typeof input, { token: string }>(url);
  conn.send(input);
  for await (const { token } of conn) await Deno.stdout.write(encoder.encode(token));
}
console.log();
