import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, RealtimeError } from "../client/mod.ts";
import { TIMEOUT_REASON } from "../protocol.ts";
import { App } from "../server/mod.ts";
import { listen, Peer, waitFor, within } from "./_realtime_helpers.ts";
import { inMemory } from "./_memory.ts";

const Input = z.object({ n: z.number() });
const TIMEOUT_FRAME = `{"type":"x-fal-error","error":"TIMEOUT","reason":"${TIMEOUT_REASON}"}`;

/** Assert that `promise` rejects with a RealtimeError of `code`; returns the error. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RealtimeError> {
  const error = await within(promise.then(() => undefined, (error) => error), `a ${code} error`);
  assert.ok(error instanceof RealtimeError, `expected a RealtimeError, got ${error}`);
  assert.equal(error.code, code);
  return error;
}

Deno.test("server_streaming sends every item for one input, then TIMEOUT and close 1000", async () => {
  const calls: unknown[] = [];
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "server_streaming" },
    async function* (input) {
      calls.push(input);
      for (let i = 0; i < 3; i++) yield { n: input.n, i };
    },
  );
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 7 });
  for (let i = 0; i < 3; i++) assert.deepEqual(await conn.receive(), { n: 7, i });
  assert.equal(await conn.receive(), undefined);
  assert.deepEqual(calls, [{ n: 7 }]);

  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  assert.deepEqual(await peer.rest(), [
    { n: 1, i: 0 },
    { n: 1, i: 1 },
    { n: 1, i: 2 },
    TIMEOUT_FRAME,
  ]);
  assert.equal((await peer.closeEvent()).code, 1000);
  await waitFor(() => app.sessionCount === 0, "the sessions to end");
});

Deno.test("client_streaming reads inputs until end() and sends one output, then TIMEOUT and 1000", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "client_streaming" },
    async (inputs) => {
      const ns: number[] = [];
      for await (const input of inputs) ns.push(input.n);
      return { ns };
    },
  );
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  for (let n = 0; n < 4; n++) conn.send({ n });
  conn.end();
  assert.deepEqual(await conn.receive(), { ns: [0, 1, 2, 3] });
  assert.equal(await conn.receive(), undefined);

  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 5 });
  peer.socket.send('{"type":"x-fal-message","action":"end"}');
  assert.deepEqual(await peer.rest(), [{ ns: [5] }, TIMEOUT_FRAME]);
  assert.equal((await peer.closeEvent()).code, 1000);
});

Deno.test("client_streaming input ends after an idle sessionTimeout", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "client_streaming", sessionTimeout: 0.3 },
    async (inputs) => {
      const ns: number[] = [];
      for await (const input of inputs) ns.push(input.n);
      return { ns };
    },
  );
  await using server = inMemory(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  conn.send({ n: 2 });
  assert.deepEqual(await conn.receive(), { ns: [1, 2] });
  assert.equal(await conn.receive(), undefined);
});

Deno.test("client_streaming input ends on disconnect and ctx.signal aborts", async () => {
  const seen: number[] = [];
  let loopEnded!: (abortedThen: boolean) => void;
  const ended = new Promise<boolean>((resolve) => loopEnded = resolve);
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "client_streaming" },
    async (inputs, ctx) => {
      for await (const input of inputs) seen.push(input.n);
      loopEnded(ctx.signal.aborted);
      return { seen };
    },
  );
  await using server = inMemory(app);
  const conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  await waitFor(() => seen.length === 1, "the handler to read the input");
  assert.equal(app.sessionCount, 1);
  await conn.close();
  assert.equal(await within(ended, "the handler's loop to end"), true, "ctx.signal aborted");
  assert.deepEqual(seen, [1]);
  await waitFor(() => app.sessionCount === 0, "the session to end");
});

Deno.test("bidi interleaves inputs and outputs and ends with end()", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "bidi" },
    async function* (inputs) {
      let total = 0;
      for await (const input of inputs) {
        total += input.n;
        yield { total };
      }
      yield { done: total };
    },
  );
  await using server = inMemory(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  for (const [n, total] of [[1, 1], [2, 3], [3, 6]]) {
    conn.send({ n }); // each output arrives before the next input is sent
    assert.deepEqual(await conn.receive(), { total });
  }
  conn.end();
  assert.deepEqual(await conn.receive(), { done: 6 });
  assert.equal(await conn.receive(), undefined);
});

Deno.test("bidi ends when the handler's generator returns, with TIMEOUT and 1000", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "bidi" },
    async function* (inputs) {
      for await (const input of inputs) {
        yield { echo: input.n };
        if (input.n === 2) return;
      }
    },
  );
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  assert.deepEqual(await conn.receive(), { echo: 1 });
  conn.send({ n: 2 });
  assert.deepEqual(await conn.receive(), { echo: 2 });
  assert.equal(await conn.receive(), undefined);

  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 2 });
  assert.deepEqual(await peer.rest(), [{ echo: 2 }, TIMEOUT_FRAME]);
  assert.equal((await peer.closeEvent()).code, 1000);
});

Deno.test("client_streaming handler that catches an invalid input's RealtimeError reads on", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "client_streaming" },
    async (inputs) => {
      const ns: number[] = [];
      const iterator = inputs[Symbol.asyncIterator]();
      for (;;) {
        try {
          const next = await iterator.next();
          if (next.done) return { ns, invalid: errors.length };
          ns.push(next.value.n);
        } catch (error) {
          errors.push(error);
        }
      }
    },
  );
  await using server = inMemory(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  conn.send({ n: "two" });
  conn.send({ n: 3 });
  conn.end();
  assert.deepEqual(await conn.receive(), { ns: [1, 3], invalid: 1 }, "no error frame came first");
  assert.equal(await conn.receive(), undefined);
  assert.equal(errors.length, 1);
  const error = errors[0];
  assert.ok(error instanceof RealtimeError);
  assert.equal(error.code, "INVALID_INPUT");
  assert.match(error.reason, /^n: /);
  assert.deepEqual(error.issues?.[0].path, ["n"]);
});

Deno.test("bidi handler that does not catch an invalid input sends its error frame", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "bidi" },
    async function* (inputs) {
      for await (const input of inputs) yield { echo: input.n };
    },
  );
  await using server = inMemory(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  assert.deepEqual(await conn.receive(), { echo: 1 });
  conn.send({ n: "two" });
  const error = await rejectsWith(conn.receive(), "INVALID_INPUT");
  assert.deepEqual(error.issues?.[0].path, ["n"]);
  assert.equal(await conn.receive(), undefined, "the session ended with the handler");
});

Deno.test("bidi input iterator throws an oversized input's MESSAGE_TOO_LARGE in its turn", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, mode: "bidi", maxMessageBytes: 1024, sessionTimeout: 0.3 },
    async function* (inputs) {
      const iterator = inputs[Symbol.asyncIterator]();
      for (;;) {
        try {
          const next = await iterator.next();
          if (next.done) return;
          yield { echo: next.value.n };
        } catch (error) {
          yield { caught: (error as RealtimeError).code };
        }
      }
    },
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  peer.socket.send(new Uint8Array(1025));
  peer.send({ n: 2 });
  assert.deepEqual(await peer.rest(), [
    { echo: 1 },
    { caught: "MESSAGE_TOO_LARGE" },
    { echo: 2 },
    TIMEOUT_FRAME,
  ]);
});

Deno.test("a streaming handler that throws sends INTERNAL_ERROR, then the session ends", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) }).realtime(
    "/rt",
    { mode: "server_streaming" },
    async function* () {
      yield { n: 1 };
      throw new Error("stream broke");
    },
  );
  await using server = inMemory(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({});
  assert.deepEqual(await conn.receive(), { n: 1 });
  await rejectsWith(conn.receive(), "INTERNAL_ERROR");
  assert.equal(await conn.receive(), undefined);
  assert.equal((errors[0] as Error).message, "stream broke");
});

Deno.test("maxBatchSize over 1 with a streaming mode throws RangeError", () => {
  const app = new App();
  assert.throws(
    () => app.realtime("/ss", { mode: "server_streaming", maxBatchSize: 2 }, async function* () {}),
    RangeError,
  );
  assert.throws(
    () => app.realtime("/cs", { mode: "client_streaming", maxBatchSize: 4 }, () => ({})),
    RangeError,
  );
  assert.throws(
    () => app.realtime("/bidi", { mode: "bidi", maxBatchSize: 2 }, async function* () {}),
    RangeError,
  );
  app.realtime("/ok", { mode: "bidi", maxBatchSize: 1 }, async function* () {});
});
