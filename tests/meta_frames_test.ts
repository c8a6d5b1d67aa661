import assert from "node:assert/strict";
import { realtime } from "../client/mod.ts";
import { TIMEOUT_REASON } from "../protocol.ts";
import { App } from "../server/mod.ts";
import {
  codec,
  delay,
  listen,
  Op,
  Peer,
  rawConnect,
  type RawFrame,
  waitFor,
  within,
} from "./_realtime_helpers.ts";

type N = { n: number };
const TIMEOUT_FRAME = `{"type":"x-fal-error","error":"TIMEOUT","reason":"${TIMEOUT_REASON}"}`;
const PING = '{"type":"x-fal-message","action":"ping"}';

function hello(limits: Record<string, number | null>): string {
  return JSON.stringify({ type: "x-fal-message", action: "hello", limits });
}

Deno.test("hello comes first on open, with the session's limits", async () => {
  const echo = (input: unknown) => input;
  const app = new App({ onError() {} })
    .realtime("/set", { maxMessageBytes: 2048, buffering: 4, sessionTimeout: 30 }, echo)
    .realtime("/defaults", {}, echo)
    .realtime("/batched", { maxBatchSize: 8, sessionTimeout: 0.5 }, echo);
  await using server = listen(app);
  const first = async (path: string) => {
    await using peer = await Peer.open(`${server.ws}${path}`, { meta: true });
    return await peer.next();
  };
  const defaults = { buffering: null, maxBatchSize: 1, sessionTimeout: null };
  assert.equal(
    await first("/set"),
    hello({ maxMessageBytes: 2048, buffering: 4, maxBatchSize: 1, sessionTimeout: 30 }),
  );
  assert.equal(await first("/defaults"), hello({ maxMessageBytes: 16 * 1024 * 1024, ...defaults }));
  assert.equal(
    await first("/batched"),
    hello({
      maxMessageBytes: 16 * 1024 * 1024,
      buffering: null,
      maxBatchSize: 8,
      sessionTimeout: 0.5,
    }),
  );
  // buffering is the smaller of the endpoint's and the client's max_buffering.
  assert.equal(
    await first("/defaults?max_buffering=3"),
    hello({ maxMessageBytes: 16 * 1024 * 1024, ...defaults, buffering: 3 }),
  );
  assert.equal(
    await first("/set?max_buffering=2"),
    hello({ maxMessageBytes: 2048, buffering: 2, maxBatchSize: 1, sessionTimeout: 30 }),
  );
  assert.equal(
    await first("/set?max_buffering=10"),
    hello({ maxMessageBytes: 2048, buffering: 4, maxBatchSize: 1, sessionTimeout: 30 }),
  );
});

Deno.test("hello: false sends no hello", async () => {
  const app = new App({ onError() {} })
    .realtime("/rt", { hello: false, sessionTimeout: 0.2 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  peer.send({ n: 1 });
  assert.deepEqual(await peer.rest(), [{ n: 1 }, TIMEOUT_FRAME]);
});

Deno.test("dropped counts add up to exactly the inputs the handler missed, at most one per 100 ms", async () => {
  let calls = 0;
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { buffering: 1, sessionTimeout: 0.5 },
    async (input, ctx) => {
      calls++;
      await delay(30, ctx.signal); // the handler's work, so that inputs pile up and drop
      return input;
    },
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  const drops: { count: number; at: number }[] = [];
  const outputs: number[] = [];
  peer.socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") outputs.push((codec.decode(event.data) as N).n);
    else if (event.data.includes('"dropped"')) {
      const frame = JSON.parse(event.data);
      assert.deepEqual(Object.keys(frame), ["type", "action", "count"]);
      assert.equal(frame.type, "x-fal-message");
      drops.push({ count: frame.count, at: performance.now() });
    }
  });
  const sent = 150;
  const started = performance.now();
  for (let n = 0; n < sent; n++) {
    peer.send({ n });
    if (n % 3 === 2) await delay(5); // pacing, not synchronisation: any timing passes
  }
  const frames = await peer.rest(); // until TIMEOUT and close: every report is in
  assert.equal(frames.at(-1), TIMEOUT_FRAME);
  const elapsed = drops.at(-1)!.at - started;
  const total = drops.reduce((sum, drop) => sum + drop.count, 0);
  assert.equal(total, sent - calls, `${drops.length} reports of ${total} drops, ${calls} calls`);
  assert.equal(outputs.length, calls);
  assert.equal(outputs.at(-1), sent - 1, "the newest input is never dropped");
  assert.ok(drops.every((drop) => drop.count > 0));
  // The server sends reports at least 100 ms apart (95 here: timers may round), all after the
  // first input was sent.
  assert.ok(
    drops.length <= elapsed / 95 + 1,
    `${drops.length} reports in ${elapsed.toFixed(0)} ms`,
  );
  assert.ok(drops.length < total, "drops close together share one report");
});

Deno.test("timings follow each output only with emitTimings", async () => {
  const handler = async (input: unknown) => {
    await delay(30); // the handler's work: the timing frames measure it
    return input;
  };
  const app = new App({ onError() {} })
    .realtime("/timed", { emitTimings: true, sessionTimeout: 0.3 }, handler)
    .realtime("/plain", { sessionTimeout: 0.3 }, handler);
  await using server = listen(app);

  await using timed = await Peer.open(`${server.ws}/timed`, { meta: true });
  timed.send({ n: 1 });
  timed.send({ n: 2 });
  const frames = await timed.rest();
  assert.equal(frames.length, 6);
  assert.match(frames[0] as string, /"action":"hello"/);
  assert.deepEqual(frames[1], { n: 1 });
  assert.deepEqual(frames[3], { n: 2 });
  for (const text of [frames[2], frames[4]]) {
    assert.match(
      text as string,
      /^\{"type":"x-fal-message","action":"timings","timing":[\d.e-]+\}$/,
    );
    const { timing } = JSON.parse(text as string);
    assert.ok(timing >= 0.025 && timing < 10, `timing ${timing} is in seconds`);
  }
  assert.equal(frames[5], TIMEOUT_FRAME);

  await using plain = await Peer.open(`${server.ws}/plain`, { meta: true });
  plain.send({ n: 1 });
  plain.send({ n: 2 });
  const rest = await plain.rest();
  assert.match(rest[0] as string, /"action":"hello"/);
  assert.deepEqual(rest.slice(1), [{ n: 1 }, { n: 2 }, TIMEOUT_FRAME]);
});

Deno.test("ping comes after heartbeat seconds of idleness", async () => {
  const app = new App({ onError() {} }).realtime("/rt", { heartbeat: 0.2 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  assert.match(await peer.next() as string, /"action":"hello"/);
  assert.equal(await peer.next(), PING);
  assert.equal(await peer.next(), PING);
  peer.send({ n: 1 });
  let frame = await peer.next();
  while (frame === PING) frame = await peer.next(); // one may have crossed the input
  assert.deepEqual(codec.decode(frame as ArrayBuffer), { n: 1 });
  assert.equal(await peer.next(), PING);
});

Deno.test("no ping while outputs keep flowing", async () => {
  const app = new App({ onError() {} }).realtime("/rt", { heartbeat: 0.4 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  assert.match(await peer.next() as string, /"action":"hello"/);
  // Outputs every 40 ms for 1.2 s: three heartbeats, and never 400 ms of silence.
  const count = 30;
  for (let n = 0; n < count; n++) {
    peer.send({ n });
    assert.deepEqual(codec.decode(await peer.next() as ArrayBuffer), { n });
    await delay(40); // time is the behaviour under test: gaps well under the heartbeat
  }
  assert.equal(await peer.next(), PING, "the ping comes once the outputs stop");
});

Deno.test("rally's client never surfaces meta frames as outputs", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { buffering: 1, emitTimings: true, heartbeat: 0.1, sessionTimeout: 1 },
    async (input, ctx) => {
      await delay(20, ctx.signal); // the handler's work
      return input;
    },
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  await using conn = await realtime(server.http, { path: "/rt" });
  for (let n = 0; n < 20; n++) {
    peer.send({ n });
    conn.send({ n });
  }
  const outputs: unknown[] = [];
  for await (const output of conn) outputs.push(output);
  // The plain peer saw every kind of meta frame that the rally client kept to itself.
  const actions = new Set(
    (await peer.rest()).filter((frame) => typeof frame === "string").map((frame) =>
      JSON.parse(frame as string).action ?? JSON.parse(frame as string).error
    ),
  );
  assert.deepEqual([...actions].sort(), ["TIMEOUT", "dropped", "hello", "ping", "timings"]);
  assert.ok(outputs.length >= 2);
  assert.ok(outputs.every((output) => typeof (output as N).n === "number"), "only outputs");
  assert.deepEqual(outputs.at(-1), { n: 19 });
});

Deno.test("a client that treats every text frame as JSON output sees none with hello: false", async () => {
  // A strict client that knows no meta frames: text must be an output it knows, else it fails.
  const app = new App({ onError() {} })
    .realtime("/rt", { hello: false, heartbeat: 0, sessionTimeout: 0.3 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`, { meta: true });
  peer.socket.send('{"n":1}');
  peer.send({ n: 2 });
  const frames = await peer.rest();
  const outputs = frames.slice(0, -1).map((frame) => {
    if (typeof frame === "string") throw new Error(`unknown text frame ${frame}`);
    return frame;
  });
  assert.deepEqual(outputs, [{ n: 1 }, { n: 2 }]);
  assert.equal(frames.at(-1), TIMEOUT_FRAME);
});

Deno.test("idleTimeout closes a raw peer that never answers pings, and the session ends", async () => {
  const app = new App({ onError() {} })
    .realtime("/rt", { idleTimeout: 1, heartbeat: 0 }, (input) => input);
  await using server = listen(app);
  const { status, socket } = await rawConnect(server.addr.port, "/rt");
  using _socket = socket;
  assert.equal(status, 101);
  await waitFor(() => app.sessionCount === 1, "the session to start");
  const frames: RawFrame[] = [];
  for (;;) { // the raw socket answers nothing: not Deno's pings either
    const frame = await within(socket.readFrame(), "a frame or the end", 5_000);
    if (!frame) break;
    frames.push(frame);
  }
  const opcodes = frames.map((frame) => frame.opcode);
  assert.deepEqual(opcodes.filter((op) => op !== Op.ping), [Op.text, Op.close]);
  assert.ok(opcodes.includes(Op.ping), "Deno pinged first");
  await waitFor(() => app.sessionCount === 0, "the session to end");
});

Deno.test("idleTimeout keeps a peer that answers pings", async () => {
  const app = new App({ onError() {} })
    .realtime("/rt", { idleTimeout: 1, heartbeat: 0 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`); // Deno's WebSocket answers pings
  await delay(2_500); // time is the behaviour under test: 2.5 idleTimeouts, pings answered
  assert.equal(peer.socket.readyState, WebSocket.OPEN);
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { n: 1 });
});
