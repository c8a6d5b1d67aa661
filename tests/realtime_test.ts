import assert from "node:assert/strict";
import { z } from "zod";
import { END_OF_INPUT, TIMEOUT_REASON } from "../protocol.ts";
import { App } from "../server/mod.ts";
import {
  aborted,
  codec,
  delay,
  listen,
  Op,
  Peer,
  rawConnect,
  type RawWebSocket,
  type Served,
  waitFor,
  waitForInputs,
  within,
} from "./_realtime_helpers.ts";

type N = { n: number };

/**
 * An app whose realtime handler at `/rt` records each input and answers it. The first call
 * waits until `letGo(server, count)`, which waits until the server has read `count` inputs: a
 * burst is then all pending when the first call returns.
 */
function slowApp(options: { buffering?: number; maxPendingBytes?: number } = {}) {
  const seen: number[] = [];
  const gate = Promise.withResolvers<void>();
  const app = new App({ onError() {}, metrics: true }).realtime("/rt", options, async (input) => {
    seen.push((input as N).n);
    if (seen.length === 1) await gate.promise;
    return { n: (input as N).n };
  });
  const letGo = async (server: Served, count: number) => {
    await waitForInputs(server, count);
    gate.resolve();
  };
  return { app, seen, letGo };
}

/** Send inputs 0..count-1 in one go. */
function sendRapidly(peer: Peer, count: number, extra: Record<string, unknown> = {}) {
  for (let n = 0; n < count; n++) peer.send({ n, ...extra });
}

Deno.test("realtime returns 1,000 pipelined inputs in order", async () => {
  const app = new App().realtime("/rt", {}, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  sendRapidly(peer, 1000);
  for (let n = 0; n < 1000; n++) assert.deepEqual(await peer.output(), { n });
});

Deno.test("realtime drops the oldest pending input when buffering is full", async () => {
  const { app, seen, letGo } = slowApp({ buffering: 2 });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  sendRapidly(peer, 10);
  await letGo(server, 10);
  assert.deepEqual(await peer.output(), { n: 0 });
  assert.deepEqual(await peer.output(), { n: 8 });
  assert.deepEqual(await peer.output(), { n: 9 });
  peer.send({ n: 10 }); // the next output is this one: nothing else was queued
  assert.deepEqual(await peer.output(), { n: 10 });
  assert.deepEqual(seen, [0, 8, 9, 10]);
});

Deno.test("realtime uses the client's max_buffering when it is below its own buffering", async () => {
  const { app, seen, letGo } = slowApp({ buffering: 3 });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt?max_buffering=1`);
  sendRapidly(peer, 10);
  await letGo(server, 10);
  assert.deepEqual(await peer.output(), { n: 0 });
  assert.deepEqual(await peer.output(), { n: 9 });
  assert.deepEqual(seen, [0, 9]);
});

Deno.test("realtime keeps its own buffering when the client's max_buffering is larger", async () => {
  const { app, seen, letGo } = slowApp({ buffering: 2 });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt?max_buffering=5`);
  sendRapidly(peer, 10);
  await letGo(server, 10);
  for (const n of [0, 8, 9]) assert.deepEqual(await peer.output(), { n });
  assert.deepEqual(seen, [0, 8, 9]);
});

Deno.test("realtime bounds an unbuffered endpoint by the client's max_buffering", async () => {
  const { app, seen, letGo } = slowApp();
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt?max_buffering=2`);
  sendRapidly(peer, 10);
  await letGo(server, 10);
  for (const n of [0, 8, 9]) assert.deepEqual(await peer.output(), { n });
  assert.deepEqual(seen, [0, 8, 9]);
});

Deno.test("realtime drops the oldest pending input when pending bytes overflow", async () => {
  // Each input is about 1 KiB: 2 fit in 2,500 pending bytes, 3 do not.
  const { app, seen, letGo } = slowApp({ maxPendingBytes: 2_500 });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  sendRapidly(peer, 10, { pad: new Uint8Array(1000) });
  await letGo(server, 10);
  for (const n of [0, 8, 9]) assert.deepEqual(await peer.output(), { n });
  assert.deepEqual(seen, [0, 8, 9]);
});

Deno.test("realtime hands batches of 1..maxBatchSize inputs and sends one output per batch", async () => {
  const batches: number[][] = [];
  const gate = Promise.withResolvers<void>();
  const app = new App({ metrics: true }).realtime("/rt", { maxBatchSize: 4 }, async (inputs) => {
    assert.ok(Array.isArray(inputs));
    batches.push(inputs.map((input) => (input as N).n));
    if (batches.length === 1) await gate.promise; // the burst lands during the first call
    return { ns: batches.at(-1) };
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  sendRapidly(peer, 20);
  await waitForInputs(server, 20);
  gate.resolve();
  const outputs: number[][] = [];
  while (outputs.flat().length < 20) outputs.push(((await peer.output()) as { ns: number[] }).ns);
  assert.deepEqual(outputs, batches);
  assert.deepEqual(outputs.flat(), [...Array(20).keys()]);
  assert.ok(batches.every((batch) => batch.length >= 1 && batch.length <= 4));
  assert.deepEqual(batches[0], [0], "the first input does not wait for a batch to fill");
  assert.ok(batches.some((batch) => batch.length > 1), "inputs that wait are batched");
});

Deno.test("realtime with maxBatchSize 1 hands the handler single inputs", async () => {
  const inputs: unknown[] = [];
  const app = new App().realtime("/rt", { maxBatchSize: 1 }, (input) => {
    inputs.push(input);
    return input;
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  sendRapidly(peer, 3);
  for (let n = 0; n < 3; n++) assert.deepEqual(await peer.output(), { n });
  assert.deepEqual(inputs, [{ n: 0 }, { n: 1 }, { n: 2 }]);
});

Deno.test("realtime sends TIMEOUT and closes with 1000 after sessionTimeout without input", async () => {
  const app = new App().realtime("/rt", { sessionTimeout: 0.2 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { n: 1 });
  assert.equal(
    await peer.next(),
    `{"type":"x-fal-error","error":"TIMEOUT","reason":"${TIMEOUT_REASON}"}`,
  );
  assert.equal(TIMEOUT_REASON, "no inputs, reconnect when needed!");
  const event = await peer.closeEvent();
  assert.equal(event.code, 1000);
  await waitFor(() => app.sessionCount === 0, "the session to end");
});

Deno.test("realtime does not time out while inputs keep coming", async () => {
  const app = new App().realtime("/rt", { sessionTimeout: 1 }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  const started = performance.now();
  // Inputs every 100 ms for well over the timeout, each answered: time is the behaviour under
  // test (the timeout restarts with each input), bounded to 2.5 s.
  for (let n = 0; performance.now() - started < 2_500; n++) {
    peer.send({ n });
    assert.deepEqual(await peer.output(), { n });
    await delay(100);
  }
  assert.equal(peer.socket.readyState, WebSocket.OPEN);
  assert.equal((await peer.control()).error, "TIMEOUT");
  assert.equal((await peer.closeEvent()).code, 1000);
});

Deno.test("realtime answers an undecodable frame with INVALID_INPUT and keeps serving", async () => {
  const app = new App().realtime("/rt", {}, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.socket.send(new Uint8Array([0x92, 0x01])); // an array of 2 holding 1 element
  const frame = await peer.control();
  assert.equal(frame.type, "x-fal-error");
  assert.equal(frame.error, "INVALID_INPUT");
  assert.match(frame.reason, /unexpected end of input/);
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { n: 1 });
});

Deno.test("realtime answers a schema-failing input with INVALID_INPUT and its issues", async () => {
  const calls: unknown[] = [];
  const Input = z.object({ prompt: z.string() });
  const app = new App().realtime("/rt", { input: Input }, (input) => {
    calls.push(input);
    return { output: input.prompt };
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ prompt: 42 });
  const frame = await peer.control();
  assert.equal(frame.error, "INVALID_INPUT");
  assert.match(frame.reason, /^prompt: /);
  assert.equal(frame.issues?.length, 1);
  assert.deepEqual(frame.issues?.[0].path, ["prompt"]);
  peer.send({ prompt: "hi" });
  assert.deepEqual(await peer.output(), { output: "hi" });
  assert.deepEqual(calls, [{ prompt: "hi" }]);
});

Deno.test("realtime answers a throwing handler with INTERNAL_ERROR and keeps the session", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) }).realtime("/rt", {}, (input) => {
    if ((input as N).n === 1) throw new Error("model exploded");
    return input;
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  const frame = await peer.control();
  assert.equal(frame.error, "INTERNAL_ERROR");
  assert.doesNotMatch(frame.reason, /exploded/, "the error itself stays on the server");
  peer.send({ n: 2 });
  assert.deepEqual(await peer.output(), { n: 2 });
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "model exploded");
});

Deno.test("realtime answers an output that fails the output schema with INTERNAL_ERROR", async () => {
  const errors: unknown[] = [];
  const Output = z.object({ output: z.string() });
  const app = new App({ onError: (error) => errors.push(error) }).realtime(
    "/rt",
    { output: Output },
    (input) => ({ output: (input as N).n === 1 ? 1 as unknown as string : "ok" }),
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  assert.equal((await peer.control()).error, "INTERNAL_ERROR");
  peer.send({ n: 2 });
  assert.deepEqual(await peer.output(), { output: "ok" });
  assert.equal(errors.length, 1);
});

Deno.test("realtime answers an input schema that throws with INTERNAL_ERROR and keeps serving", async () => {
  const errors: unknown[] = [];
  const Input = z.object({
    n: z.number().transform((n) => {
      if (n === 1) throw new Error("transform broke");
      return n;
    }),
  });
  const app = new App({ onError: (error) => errors.push(error) })
    .realtime("/rt", { input: Input }, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  assert.equal((await peer.control()).error, "INTERNAL_ERROR");
  peer.send({ n: 2 });
  assert.deepEqual(await peer.output(), { n: 2 });
  assert.equal((errors[0] as Error).message, "transform broke");
});

Deno.test("realtime refuses an oversized frame with MESSAGE_TOO_LARGE without decoding it", async () => {
  const calls: unknown[] = [];
  const handler = (input: unknown) => {
    calls.push(input);
    return input;
  };
  const app = new App({ maxMessageBytes: 4096 })
    .realtime("/small", { maxMessageBytes: 1024 }, handler)
    .realtime("/default", {}, handler);
  await using server = listen(app);
  // 0xc1 is never valid msgpack: a frame of it that were decoded would get INVALID_INPUT.
  const invalid = (size: number) => new Uint8Array(size).fill(0xc1);
  await using small = await Peer.open(`${server.ws}/small`);
  small.socket.send(invalid(1025));
  const frame = await small.control();
  assert.equal(frame.error, "MESSAGE_TOO_LARGE");
  assert.match(frame.reason, /1025 bytes .* 1024/);
  small.socket.send(invalid(1024));
  assert.equal((await small.control()).error, "INVALID_INPUT");
  small.send({ n: 1 });
  assert.deepEqual(await small.output(), { n: 1 });

  await using other = await Peer.open(`${server.ws}/default`);
  other.socket.send(invalid(2000)); // over the small endpoint's limit, under the App's
  assert.equal((await other.control()).error, "INVALID_INPUT");
  other.socket.send(invalid(4097));
  assert.equal((await other.control()).error, "MESSAGE_TOO_LARGE");
  other.socket.send("x".repeat(4097)); // text frames are capped too
  assert.equal((await other.control()).error, "MESSAGE_TOO_LARGE");
  other.send({ n: 2 });
  assert.deepEqual(await other.output(), { n: 2 });
  assert.deepEqual(calls, [{ n: 1 }, { n: 2 }]);
});

Deno.test("realtime never drops a waiting MESSAGE_TOO_LARGE when buffering drops inputs", async () => {
  const started = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const seen: number[] = [];
  const app = new App({ onError() {}, metrics: true }).realtime(
    "/rt",
    { buffering: 1, maxMessageBytes: 1024 },
    async (input) => {
      seen.push((input as N).n);
      if (seen.length === 1) {
        started.resolve();
        await release.promise;
      }
      return input;
    },
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  await within(started.promise, "the first call");
  peer.socket.send(new Uint8Array(2000)); // refused, waits its turn behind input 1
  peer.send({ n: 2 }); // pending: [refusal, 2]
  peer.send({ n: 3 }); // drops 2, never the refusal
  await waitForInputs(server, 4);
  release.resolve();
  assert.deepEqual(await peer.output(), { n: 1 });
  assert.equal((await peer.control()).error, "MESSAGE_TOO_LARGE");
  assert.deepEqual(await peer.output(), { n: 3 });
  assert.deepEqual(seen, [1, 3]);
});

Deno.test("realtime accepts a JSON text frame as an input", async () => {
  const Input = z.object({ prompt: z.string() });
  const app = new App().realtime("/rt", { input: Input }, (input) => ({ output: input.prompt }));
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.socket.send('{"prompt":"from text"}');
  assert.deepEqual(await peer.output(), { output: "from text" });
  peer.socket.send("{not json");
  assert.equal((await peer.control()).error, "INVALID_INPUT");
});

Deno.test("realtime does not treat the end-of-input frame as an input in unary mode", async () => {
  const calls: unknown[] = [];
  const app = new App().realtime("/rt", {}, (input) => {
    calls.push(input);
    return input;
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.socket.send(END_OF_INPUT);
  assert.equal(END_OF_INPUT, '{"type":"x-fal-message","action":"end"}');
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { n: 1 });
  assert.deepEqual(calls, [{ n: 1 }]);
  assert.equal(peer.socket.readyState, WebSocket.OPEN);
});

Deno.test("realtime sends Uint8Array values as bin, and receives bin as Uint8Array", async () => {
  const app = new App().realtime("/rt", {}, (input) => {
    const { image } = input as { image: Uint8Array };
    assert.ok(image instanceof Uint8Array);
    return { image: image.toReversed(), size: image.length };
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ image: new Uint8Array([1, 2, 3]) });
  const frame = await peer.next();
  assert.ok(frame instanceof ArrayBuffer, "outputs travel as binary frames");
  assert.ok(new Uint8Array(frame).includes(0xc4), "the bytes are a msgpack bin 8");
  const output = codec.decode(frame) as { image: Uint8Array; size: number };
  assert.ok(output.image instanceof Uint8Array);
  assert.deepEqual([...output.image], [3, 2, 1]);
  assert.equal(output.size, 3);
});

Deno.test("realtime aborts the handler and forgets the session when the client leaves mid-call", async () => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => started = resolve);
  let abortedInHandler = false;
  const app = new App().realtime("/rt", {}, async (_input, ctx) => {
    started();
    await aborted(ctx.signal);
    abortedInHandler = ctx.signal.aborted;
    return { late: true };
  });
  await using server = listen(app);
  const peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  peer.send({ n: 2 });
  await within(running, "the handler to start");
  assert.equal(app.sessionCount, 1);
  await peer.close();
  await waitFor(() => abortedInHandler, "the handler's signal to abort");
  await waitFor(() => app.sessionCount === 0, "the session to be forgotten");
});

Deno.test("realtime stops taking work while the socket does not drain", async () => {
  // Outputs of 512 KiB to a client that stops reading: the kernel's buffers and the server's
  // 1 MiB high-water mark fill long before 100 outputs (50 MiB) are made.
  const total = 100;
  const big = new Uint8Array(512 * 1024);
  let calls = 0;
  const app = new App().realtime("/rt", {}, (input) => {
    calls++;
    return { n: (input as N).n, big };
  });
  await using server = listen(app);
  const { status, socket } = await rawConnect(server.addr.port, "/rt");
  using _socket = socket;
  assert.equal(status, 101);
  for (let n = 0; n < total; n++) await socket.writeFrame(Op.binary, codec.encode({ n }));

  // Wait for the handler calls to stop growing (a bounded poll: 5 still samples 100 ms apart,
  // 10 s at most): the session is paused, not slow.
  let last = -1;
  const end = performance.now() + 10_000;
  for (let stable = 0; stable < 5;) {
    assert.ok(performance.now() < end, `handler calls never stopped growing (${calls})`);
    await delay(100);
    stable = calls === last ? stable + 1 : 0;
    last = calls;
  }
  assert.ok(calls > 0 && calls < total, `${calls} handler calls while stuck`);
  await delay(300); // an absence: no handler call while the socket stays stuck
  assert.equal(calls, last, "no handler call while the socket is stuck");

  for (let n = 0; n < total; n++) {
    const output = await readOutput(socket);
    assert.equal(output.n, n);
    assert.equal(output.big.length, big.length);
  }
  assert.equal(calls, total);
  await socket.writeClose(1000);
  await waitFor(() => app.sessionCount === 0, "the session to end");
});

async function readOutput(socket: RawWebSocket): Promise<{ n: number; big: Uint8Array }> {
  let frame = await within(socket.readFrame(), "an output");
  while (frame?.opcode === Op.text) frame = await within(socket.readFrame(), "an output"); // meta
  assert.equal(frame?.opcode, Op.binary);
  return codec.decode(frame!.payload) as { n: number; big: Uint8Array };
}
