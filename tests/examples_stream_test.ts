import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { realtime, stream } from "../client/mod.ts";
import { serve } from "../server/mod.ts";
import tokenApp from "../examples/token_stream.ts";
import imageApp from "../examples/image_app.ts";
import { spawnDeno } from "./_helpers.ts";

const LISTEN = { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} } as const;
const PROMPT = { prompt: "world the hello", maxTokens: 8 };

Deno.test("token stream example: SSE and realtime server_streaming give the same tokens, in order", async () => {
  await using server = serve(tokenApp, LISTEN);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const viaSse: unknown[] = [];
  for await (const token of stream(url, { path: "/complete", input: PROMPT })) viaSse.push(token);
  assert.deepEqual(viaSse, [
    { index: 0, token: "hello " },
    { index: 1, token: "the " },
    { index: 2, token: "world" },
  ]);
  await using conn = await realtime(url);
  conn.send(PROMPT);
  const viaRealtime: unknown[] = [];
  for await (const token of conn) viaRealtime.push(token); // ends with the session (TIMEOUT, 1000)
  assert.deepEqual(viaRealtime, viaSse);
});

Deno.test("token stream example: maxTokens caps the answer, and a bad request gets 422", async () => {
  await using server = serve(tokenApp, LISTEN);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const tokens: unknown[] = [];
  const input = { prompt: "a b c d e", maxTokens: 2 };
  for await (const token of stream(url, { path: "/complete", input })) tokens.push(token);
  assert.equal(tokens.length, 2);
  const bad = await fetch(`${url}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "" }),
  });
  assert.equal(bad.status, 422);
  await bad.body?.cancel();
});

Deno.test("image example: one progress frame per step, then a valid PNG of the asked size as bytes", async () => {
  await using server = serve(imageApp, LISTEN);
  await using conn = await realtime(`http://127.0.0.1:${server.addr.port}`);
  conn.send({ prompt: "a lighthouse", steps: 4, size: 16 });
  const frames: Record<string, unknown>[] = [];
  for await (const frame of conn) frames.push(frame);
  assert.deepEqual(frames.slice(0, 4).map((frame) => frame.step), [1, 2, 3, 4]);
  assert.equal(frames[3].progress, 1);
  const { image, width, height } = frames[4] as {
    image: Uint8Array;
    width: number;
    height: number;
  };
  assert.equal(frames.length, 5);
  assert.ok(image instanceof Uint8Array, "the image arrives as bytes (msgpack bin)");
  assert.deepEqual([...image.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  assert.deepEqual([view.getUint32(16), view.getUint32(20), width, height], [16, 16, 16, 16]);
  const idatLength = view.getUint32(33);
  const pixels = inflateSync(image.subarray(41, 41 + idatLength));
  assert.equal(pixels.length, 16 * (16 * 4 + 1), "16 rows of a filter byte and 16 RGBA pixels");
});

Deno.test("examples/token_client.ts and image_client.ts print what their apps send", async () => {
  await using tokens = serve(tokenApp, LISTEN);
  await using images = serve(imageApp, LISTEN);
  const out = await Deno.makeTempFile({ suffix: ".png" });
  try {
    const tokenClient = spawnDeno([
      "run",
      "-A",
      "examples/token_client.ts",
      `http://127.0.0.1:${tokens.addr.port}`,
    ]);
    assert.equal((await tokenClient.exited(30_000)).code, 0, tokenClient.output());
    const answer = "answer like every model streams time a at one tokens";
    assert.equal(tokenClient.output(), `sse: ${answer}\nrealtime: ${answer}\n`);
    const imageClient = spawnDeno([
      "run",
      "-A",
      "examples/image_client.ts",
      `http://127.0.0.1:${images.addr.port}`,
      out,
    ]);
    assert.equal((await imageClient.exited(30_000)).code, 0, imageClient.output());
    assert.match(imageClient.output(), /step 10\/10 \(100 %\)\nwrote .*: 128x128, \d+ bytes\n$/);
    assert.equal((await Deno.readFile(out))[1], 0x50, "a PNG file");
  } finally {
    await Deno.remove(out);
  }
});
