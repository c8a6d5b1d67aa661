/**
 * Issue 12, item 4: JSON is held to the same value budget as msgpack. A 16 MiB text frame or
 * HTTP body of empty arrays (5.6M values) used to go straight to `JSON.parse`: about a second of
 * blocked event loop and hundreds of MB. Now a linear count refuses it before anything is built.
 * Realtime routes accept text frames (budgeted); fal's clients never send them.
 *
 * The server runs in a child process with its old space capped at 128 MB (a server that parsed
 * such a text would die there); a good client is served throughout.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Codec, DecodeError, decodeText } from "../codec.ts";
import { goodClient, rssReturns } from "./_attack.ts";
import { mb, serveFuzzApp } from "./_child_server.ts";
import { Peer } from "./_realtime_helpers.ts";

/** Just under the default 16 MiB frame cap. */
const TEXT_CHARS = 16 * 2 ** 20 - 64;
/**
 * RSS the attack may leave behind, after a full GC (the issue measured +180–470 MiB): 42–44 MB
 * stay of the 80 MB it sends (V8 and malloc keep pages), 48.2 MB once with the whole suite in
 * parallel on 2 cores.
 */
const RSS_BOUND = 64 * 2 ** 20;

/** `[[],[],...]`: one array of about `chars / 3` empty arrays. */
function emptyArrays(chars: number): string {
  return `[${"[],".repeat(Math.floor((chars - 4) / 3))}[]]`;
}

Deno.test("a 16 MiB JSON text frame or body of empty arrays is refused by the value budget, fast and without growing the server", async () => {
  await using server = await serveFuzzApp(128);
  const before = await server.stats();
  const good = await goodClient(server);
  const text = emptyArrays(TEXT_CHARS);

  await using peer = await Peer.open(`${server.ws}/rt-big`);
  const timings: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    peer.socket.send(text);
    const frame = await peer.control();
    timings.push(performance.now() - started);
    assert.equal(frame.error, "INVALID_INPUT");
    assert.match(frame.reason, /more than 500000 values in one message/);
  }
  // HTTP bodies: with a content-length, and chunked; on connections that close after.
  const body = new TextEncoder().encode(text);
  using client = Deno.createHttpClient({});
  for (const chunked of [false, true]) {
    const started = performance.now();
    const response = await fetch(`${server.http}/big`, {
      client,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked ? ReadableStream.from([body]) : body,
    });
    timings.push(performance.now() - started);
    const { detail } = await response.json();
    assert.equal(response.status, 422);
    assert.match(detail[0].msg, /more than 500000 values/);
    assert.equal(detail[0].type, "json_invalid");
  }
  // The session still serves, JSON and msgpack alike.
  peer.socket.send('{"n":7}');
  assert.deepEqual(await peer.output(), { echo: { n: 7 }, size: 0 });
  const served = await good.stop();
  // The attacker leaves: Deno keeps a connection's read buffer (grown to the largest frame or
  // body) while it is open.
  await peer.close();
  client.close();
  const { stats: after, ms } = await rssReturns(server, before, RSS_BOUND);
  console.log(
    `JSON budget: 3 text frames and 2 bodies of 16 MiB refused in ` +
      `${
        timings.map((t) => t.toFixed(0)).join("/")
      } ms; good client ${served.count} round trips, ` +
      `p50 ${served.p50.toFixed(1)} ms, max ${served.max.toFixed(0)} ms; rss ${
        mb(before.memory.rss)
      } → ${mb(after.memory.rss)} (${ms.toFixed(0)} ms after)`,
  );
  assert.ok(served.count > 0, "the good client was answered during the attack");
  assert.equal((await server.stop()).code, 0, server.child.output());
});

Deno.test("decodeText counts exactly the values msgpack would (arrays, objects, keys, scalars)", () => {
  const values = (value: unknown): number => {
    if (Array.isArray(value)) return 1 + value.reduce((sum, item) => sum + values(item), 0);
    if (value !== null && typeof value === "object") {
      return 1 + Object.values(value).reduce((sum, item) => sum + 1 + values(item), 0);
    }
    return 1;
  };
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, spaced) => {
      const text = JSON.stringify(value, null, spaced ? 1 : undefined);
      const count = values(value);
      // A budget under the text's length makes the scan run; one under the count refuses.
      const budget = Math.max(0, Math.min(count - 1, text.length - 1));
      if (count > budget) {
        assert.throws(() => decodeText(text, budget), /values in one message/, text);
      }
      assert.deepEqual(decodeText(text, count), JSON.parse(text));
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("decodeText skips strings whole, escaped quotes and brackets included", () => {
  const tricky = JSON.stringify({ a: '"[[[,,,]]]\\"\\\\', b: ["x\\", "]}{["] });
  // 1 object, 2 keys, 1 string, 1 array, 2 strings: 7 values.
  assert.deepEqual(decodeText(tricky, 7), JSON.parse(tricky));
  assert.throws(() => decodeText(tricky, 6), DecodeError);
  // A long string is one value: a 1 MiB prompt passes a budget of 10.
  const long = JSON.stringify({ prompt: 'a\\"b'.repeat(2 ** 18) });
  assert.equal((decodeText(long, 10) as { prompt: string }).prompt.length, 2 ** 20);
  // Malformed text over the budget still reports what is wrong with it.
  assert.throws(() => decodeText(`[${"1,".repeat(20)}`, 5), /more than 5 values/);
  assert.throws(() => decodeText(`{"a":${" ".repeat(20)}`, 5), /invalid JSON/);
});

Deno.test("Codec.decodeText uses the codec's budget", () => {
  const codec = new Codec({ maxElements: 4 });
  assert.equal(codec.maxElements, 4);
  assert.deepEqual(codec.decodeText("[1, 2, 3]"), [1, 2, 3]);
  assert.throws(() => codec.decodeText("[1, 2, 3, 4]"), /more than 4 values in one message/);
});
