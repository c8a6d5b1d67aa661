/**
 * The amplification case: a frame of millions of empty arrays or maps (16 MiB, under the frame
 * cap) would decode into hundreds of MB of heap. The decoder's element budget must refuse it
 * before building anything. The server runs in a child process with its V8 old space capped
 * (a server that decoded such a frame would die there) and reports its heap after a full GC.
 */
import assert from "node:assert/strict";
import { DEFAULT_DECODE_LIMITS } from "../codec.ts";
import { mb, serveFuzzApp } from "./_child_server.ts";
import { Peer } from "./_realtime_helpers.ts";

/** The heap growth the issue allows. */
const HEAP_GROWTH_LIMIT = 64 * 2 ** 20;
/** The child's old-space cap, in MB: its baseline plus well under what one bad decode takes. */
const HEAP_CAP_MB = 128;
/** Just under the default 16 MiB frame cap. */
const FRAME_BYTES = 16 * 2 ** 20 - 64;

/** A 32-bit container header (`0xdd` array, `0xdf` map) for `count` items, then `fill` bytes. */
function container(head: 0xdd | 0xdf, count: number, fill: number, bytes = FRAME_BYTES) {
  const frame = new Uint8Array(bytes).fill(fill);
  frame[0] = head;
  new DataView(frame.buffer).setUint32(1, count);
  return frame;
}

/** The hostile frames: each is one message of millions of values. */
const AMPLIFIERS: Record<string, () => Uint8Array> = {
  "an array of 16M empty arrays": () => container(0xdd, FRAME_BYTES - 5, 0x90),
  "an array of 16M empty maps": () => container(0xdd, FRAME_BYTES - 5, 0x80),
  "a map of 8M empty-array pairs": () => container(0xdf, (FRAME_BYTES - 5) / 2, 0x90),
  "16M arrays nested one in another": () => new Uint8Array(FRAME_BYTES).fill(0x91),
  "a tree of 15-element arrays": () => new Uint8Array(FRAME_BYTES).fill(0x9f),
};

Deno.test("amplification frames are refused by the element budget with heap growth under 64 MB", async () => {
  await using server = await serveFuzzApp(HEAP_CAP_MB);
  const before = await server.stats();
  assert.ok(before.collected, "the child runs with --expose-gc");

  await using peer = await Peer.open(`${server.ws}/rt-big`);
  for (const [name, make] of Object.entries(AMPLIFIERS)) {
    for (let i = 0; i < 2; i++) {
      peer.socket.send(make());
      const frame = await peer.control();
      assert.equal(frame.error, "INVALID_INPUT", name);
      assert.match(frame.reason, /more than 500000 values in one message/, name);
    }
  }
  // The same frames as HTTP bodies.
  for (const [name, make] of Object.entries(AMPLIFIERS)) {
    const response = await fetch(`${server.http}/big`, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: make() as Uint8Array<ArrayBuffer>,
    });
    const { detail } = await response.json();
    assert.equal(response.status, 422, name);
    assert.match(detail[0].msg, /more than 500000 values/, name);
  }
  // The session and the server are still serving.
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { echo: { n: 1 }, size: 0 });

  const after = await server.stats();
  const heapGrowth = after.memory.heapUsed - before.memory.heapUsed;
  const heapSizeGrowth = after.totalHeapSize - before.totalHeapSize;
  console.log(
    `amplification: 10 frames and 5 bodies of 16 MiB refused; heap used ${
      mb(before.memory.heapUsed)
    }` +
      ` → ${mb(after.memory.heapUsed)}, V8 heap size ${mb(before.totalHeapSize)} → ` +
      `${mb(after.totalHeapSize)}, rss ${mb(before.memory.rss)} → ${mb(after.memory.rss)}`,
  );
  assert.ok(heapGrowth < HEAP_GROWTH_LIMIT, `heap used grew by ${mb(heapGrowth)}`);
  assert.ok(heapSizeGrowth < HEAP_GROWTH_LIMIT, `V8 heap size grew by ${mb(heapSizeGrowth)}`);
  await peer.close();
  const status = await server.stop();
  assert.equal(status.code, 0, server.child.output());
});

Deno.test("the largest message within the element budget decodes within the heap cap", async () => {
  await using server = await serveFuzzApp(HEAP_CAP_MB);
  const before = await server.stats();
  const budget = DEFAULT_DECODE_LIMITS.maxElements;
  // One array and budget - 1 empty maps: exactly the budget, so it is decoded (and then fails
  // the schema, which wants a map).
  const frame = container(0xdd, budget - 1, 0x80, budget + 4);
  await using peer = await Peer.open(`${server.ws}/rt-big`);
  for (let i = 0; i < 3; i++) {
    peer.socket.send(frame);
    const error = await peer.control();
    assert.equal(error.error, "INVALID_INPUT");
    assert.doesNotMatch(error.reason, /values in one message/, "the budget let it through");
  }
  const over = container(0xdd, budget, 0x80, budget + 5);
  peer.socket.send(over);
  assert.match((await peer.control()).reason, /more than 500000 values/);
  const after = await server.stats();
  console.log(
    `within budget: V8 heap size ${mb(before.totalHeapSize)} → ${mb(after.totalHeapSize)} ` +
      `after 3 messages of ${budget} values`,
  );
  assert.ok(after.totalHeapSize - before.totalHeapSize < HEAP_GROWTH_LIMIT);
  await peer.close();
  assert.equal((await server.stop()).code, 0, server.child.output());
});
