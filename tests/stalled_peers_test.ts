/**
 * Connections that never leave (issue 12, item 3), the part rally can close: a WebSocket peer
 * that never sends its first message (`firstMessageTimeout`), and a request body that stalls
 * between chunks (`bodyTimeout`). Idle TCP and slow headers come before rally sees a request:
 * the proxy closes those (`deploy/nginx.conf`, `deno task test:deploy`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { realtime, wsConnect } from "../client/mod.ts";
import { App } from "../server/mod.ts";
import { listen, Op, rawConnect, type RawWebSocket, waitFor, within } from "./_realtime_helpers.ts";

/** Frames until the close frame: the text ones, and the close code. */
async function untilClose(socket: RawWebSocket): Promise<{ texts: string[]; code: number }> {
  const texts: string[] = [];
  for (;;) {
    const frame = await within(socket.readFrame(), "the next frame or the close");
    if (!frame) return { texts, code: 1006 };
    if (frame.opcode === Op.text) texts.push(new TextDecoder().decode(frame.payload));
    if (frame.opcode === Op.close) {
      await socket.writeClose(1000).catch(() => {}); // answer it, as a client should
      return { texts, code: new DataView(frame.payload.buffer).getUint16(0) };
    }
  }
}

Deno.test("a WebSocket that sends no first message within firstMessageTimeout is closed; one in use is not", async () => {
  const app = new App({ firstMessageTimeout: 0.3 })
    .realtime("/rt", {}, (input) => input)
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    })
    .websocket("/push", async (socket) => {
      socket.send("first"); // the server speaks first: the peer is in use
      for await (const message of socket) socket.send(message);
    });
  await using server = listen(app);
  const port = server.addr.port;
  await using good = await realtime<{ n: number }, { n: number }>(server.http, { path: "/rt" });
  good.send({ n: 1 });
  assert.deepEqual(await good.receive(), { n: 1 });
  await using push = await wsConnect(server.http, { path: "/push" });
  assert.equal(await push.receive(), "first");

  const started = performance.now();
  const silentRealtime = await rawConnect(port, "/rt");
  const silentRaw = await rawConnect(port, "/ws");
  using _a = silentRealtime.socket;
  using _b = silentRaw.socket;
  const [rt, raw] = await Promise.all([
    untilClose(silentRealtime.socket),
    untilClose(silentRaw.socket),
  ]);
  const elapsed = performance.now() - started;
  // Realtime: hello, then TIMEOUT and 1000 (fal's normal end: clients reconnect on next send).
  assert.match(rt.texts[0], /"action":"hello"/);
  assert.match(rt.texts.at(-1)!, /"error":"TIMEOUT"/);
  assert.equal(rt.code, 1000);
  assert.equal(raw.code, 1008);
  assert.ok(elapsed >= 250 && elapsed < 5_000, `closed after ${elapsed.toFixed(0)} ms`);

  // The timeout has passed for all: the sockets in use are still served.
  push.send("still here");
  assert.equal(await push.receive(), "still here");
  good.send({ n: 2 });
  assert.deepEqual(await good.receive(), { n: 2 });
  await waitFor(() => app.sessionCount === 2, "the silent sessions to end");
});

/**
 * Send a request head and part of its body by hand; read the whole answer. (Deno then keeps the
 * TCP connection open until the client closes it: only a proxy closes that.)
 */
async function stalledRequest(port: number, head: string, part: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head + part));
    let text = "";
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await within(conn.read(buffer).catch(() => null), "the answer");
      if (n === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      const length = Number(/^content-length:\s*(\d+)/im.exec(text)?.[1] ?? NaN);
      if (end >= 0 && text.length >= end + 4 + length) return text;
    }
  } finally {
    conn.close();
  }
}

Deno.test("a request body that stalls for bodyTimeout gets 408, and the handler never sees it", async () => {
  let calls = 0;
  const app = new App({ bodyTimeout: 0.3 }).endpoint("/", {}, (input) => {
    calls++;
    return input;
  });
  await using server = listen(app);
  const port = server.addr.port;
  const post = (body: string) =>
    fetch(server.http, { method: "POST", headers: { "content-type": "application/json" }, body })
      .then((response) => response.json());

  const started = performance.now();
  const attacks = [
    // A small declared length (read whole), then 10 bytes of 100.
    stalledRequest(
      port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
      '{"a":"1234',
    ),
    // A declared length over 64 KiB (read chunk by chunk), then 10 bytes.
    stalledRequest(
      port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
      '{"a":"1234',
    ),
    // Chunked: one chunk, then nothing.
    stalledRequest(
      port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
      'a\r\n{"a":"1234\r\n',
    ),
  ];
  assert.deepEqual(await post('{"good":1}'), { good: 1 }); // a good client during
  const answers = await Promise.all(attacks);
  const elapsed = performance.now() - started;
  for (const answer of answers) {
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /^connection: close/im);
    assert.match(answer, /"detail":"Request body stalled: no bytes for 0.3 s \(bodyTimeout\)"/);
  }
  assert.ok(elapsed >= 250 && elapsed < 5_000, `answered after ${elapsed.toFixed(0)} ms`);
  assert.equal(calls, 1, "the handler never saw a stalled body");
  assert.deepEqual(await post('{"good":2}'), { good: 2 }); // and after
});
