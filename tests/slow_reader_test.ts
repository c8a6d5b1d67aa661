/**
 * Slow readers: a client spoken by hand over TCP (a Deno WebSocket drains even without a
 * handler) sends many inputs whose outputs are large, and stops reading. The server, in a child
 * process that reports its memory after a full GC, must stop taking work once its socket does
 * not drain, keep its memory bounded (pending inputs dropped or held within their bounds), and
 * send the outputs in order once the client reads again.
 */
import assert from "node:assert/strict";
import { rssReturns } from "./_attack.ts";
import { mb, serveFuzzApp, type Stats } from "./_child_server.ts";
import {
  codec,
  delay,
  Op,
  rawConnect,
  type RawWebSocket,
  waitFor,
  within,
} from "./_realtime_helpers.ts";

const OUTPUT_BYTES = 256 * 1024;

/** Poll the server until its handler calls on `path` stop growing; returns the last stats. */
async function whenStalled(server: { stats(): Promise<Stats> }, path: string): Promise<Stats> {
  let last = await server.stats();
  for (let stable = 0, polls = 0; stable < 5; polls++) {
    assert.ok(polls < 200, `the handler calls on ${path} never stopped growing`);
    await delay(150); // a bounded poll (200 at most): calls must stay still for 5 samples
    const now = await server.stats();
    stable = now.calls[path] === last.calls[path] ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** Read frames until outputs and `dropped` counts add up to `total`. */
async function readAll(socket: RawWebSocket, total: number) {
  const outputs: number[] = [];
  let dropped = 0;
  while (outputs.length + dropped < total) {
    const frame = await within(socket.readFrame(), `frame ${outputs.length + dropped}`);
    assert.ok(frame, "the connection ended early");
    if (frame.opcode === Op.binary) {
      const output = codec.decode(frame.payload) as { n: number; big: Uint8Array };
      assert.equal(output.big.length, OUTPUT_BYTES);
      outputs.push(output.n);
    } else if (frame.opcode === Op.text) {
      const text = new TextDecoder().decode(frame.payload);
      const meta = JSON.parse(text);
      assert.equal(meta.type, "x-fal-message", text);
      if (meta.action === "dropped") dropped += meta.count;
    }
  }
  return { outputs, dropped };
}

async function stuckClient(
  path: string,
  inputs: number,
  padBytes: number,
  check: (result: { outputs: number[]; dropped: number; stalledCalls: number }) => void,
) {
  await using server = await serveFuzzApp();
  const before = await server.stats();
  const { status, socket } = await rawConnect(server.port, path);
  using _socket = socket;
  assert.equal(status, 101);
  const pad = new Uint8Array(padBytes);
  for (let n = 0; n < inputs; n++) {
    await socket.writeFrame(Op.binary, codec.encode({ n, out: OUTPUT_BYTES, pad }));
  }
  const stalled = await whenStalled(server, path);
  const stalledCalls = stalled.calls[path] ?? 0;
  assert.ok(stalledCalls > 0 && stalledCalls < inputs, `${stalledCalls} calls while stuck`);
  // The outputs made so far fill the kernel's buffers and the server's high-water mark; what
  // is left of the inputs waits within its bounds.
  const sentBytes = inputs * (padBytes + 32);
  const grown = stalled.memory.heapUsed + stalled.memory.external -
    (before.memory.heapUsed + before.memory.external);
  console.log(
    `${path}: ${inputs} inputs (${mb(sentBytes)}) sent, ${stalledCalls} handled while stuck ` +
      `(${mb(stalledCalls * OUTPUT_BYTES)} of outputs); heap+external grew ${mb(grown)}, ` +
      `rss ${mb(before.memory.rss)} → ${mb(stalled.memory.rss)}`,
  );
  assert.ok(grown < 24 * 2 ** 20, `server memory grew by ${mb(grown)} while stuck`);
  await delay(300); // an absence: no handler call while the socket stays stuck
  assert.equal((await server.stats()).calls[path], stalledCalls, "no work while stuck");

  const result = await readAll(socket, inputs);
  assert.deepEqual(result.outputs, result.outputs.toSorted((a, b) => a - b), "outputs in order");
  assert.equal(new Set(result.outputs).size, result.outputs.length, "each output once");
  assert.equal(result.outputs.at(-1), inputs - 1, "the latest input is handled");
  check({ ...result, stalledCalls });
  await socket.writeClose(1000);
  await waitFor(async () => (await server.stats()).sessions === 0, "the session to end");
}

Deno.test("a slow reader with buffering: the server stops, drops the oldest pending inputs, and resumes in order", async () => {
  // 400 inputs of 128 KiB (50 MB) whose outputs are 256 KiB (100 MB); at most 8 wait.
  await stuckClient("/slow-dropping", 400, 128 * 1024, ({ outputs, dropped, stalledCalls }) => {
    assert.ok(dropped > 0, "pending inputs were dropped");
    assert.equal(outputs.length + dropped, 400);
    // After the stall, only what was pending (8) and the call in hand were left to handle.
    assert.ok(outputs.length - stalledCalls <= 9, `${outputs.length - stalledCalls} after`);
  });
});

Deno.test("a slow reader without a count bound: the server holds the pending inputs and sends every output in order", async () => {
  // 300 small inputs (held: far under the 4 MiB pending bound) whose outputs make 75 MB.
  await stuckClient("/slow-held", 300, 0, ({ outputs, dropped }) => {
    assert.equal(dropped, 0);
    assert.deepEqual(outputs, [...Array(300).keys()]);
  });
});

Deno.test("slow readers with 4 MiB inputs: RSS per session within the stated bound, and back within seconds after they leave", async () => {
  // docs/protocol.md: per session, the pending bounds (here 8 inputs) + the input in the handler
  // + one output + the 1 MiB high-water mark + Deno's frame in flight: 8 × 4 + 4 + 0.25 + 1 + 4
  // = 41.25 MiB. Measured before the fix: 57 MB per session, and 100+ MB kept after they left.
  const attackers = 4;
  const pad = new Uint8Array(4 * 2 ** 20);
  await using server = await serveFuzzApp(1024);
  const before = await server.stats();
  const sockets = await Promise.all(Array.from({ length: attackers }, async () => {
    const { socket } = await rawConnect(server.port, "/slow-dropping");
    for (let n = 0; n < 24; n++) {
      await socket.writeFrame(Op.binary, codec.encode({ n, out: OUTPUT_BYTES, pad }));
    }
    return socket;
  }));
  const stuck = await whenStalled(server, "/slow-dropping");
  const perSession = (stuck.memory.rss - before.memory.rss) / attackers;
  for (const socket of sockets) socket[Symbol.dispose]();
  for (let i = 0; i < 100 && (await server.stats()).sessions > 0; i++) await delay(20);
  const { stats: after, ms } = await rssReturns(server, before, 32 * 2 ** 20);
  console.log(
    `slow readers with 4 MiB inputs: ${mb(perSession)} of RSS per session while stuck ` +
      `(bound 41.25 MiB); rss ${mb(before.memory.rss)} → ${mb(stuck.memory.rss)} → ` +
      `${mb(after.memory.rss)} ${ms.toFixed(0)} ms after they left`,
  );
  // RSS also holds what V8 has not collected yet and the allocator's slack: on a loaded machine
  // that reached a few MiB a session (README, Deploying safely: "within a quarter of the bound").
  assert.ok(perSession < 1.25 * 41.25 * 2 ** 20, `${mb(perSession)} per session`);
});
