/**
 * Fuzzing: property-based (fast-check) and random-byte frames against a realtime endpoint with
 * an input schema and no buffering, and bodies against an HTTP endpoint. Every frame must get
 * exactly the answer an oracle works out without the server (`tests/_fuzz.ts`): good frames
 * their outputs, bad frames their error frames, in order; the server must stay up throughout.
 *
 * `FUZZ_FRAMES=1000000 deno test -A tests/fuzz_test.ts` for a longer run (default 100,000).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Codec } from "../codec.ts";
import { type Expected, expectHttp, expectRealtime, frame, FUZZ_FRAMES, request } from "./_fuzz.ts";
import { codec, listen, Peer, type Served, waitFor } from "./_realtime_helpers.ts";
import { createFuzzApp, SMALL_MAX_BYTES } from "./fixtures/fuzz_app.ts";

/** Frames per fast-check run (one session each): shrinking then replays one session. */
const BATCH = 500;
/** Share of the realtime frames made by fast-check; random bytes make the rest. */
const PROPERTY_SHARE = 0.4;
/** HTTP requests: one for every 10 realtime frames, at least 2,000. */
const HTTP_REQUESTS = Math.max(2_000, Math.ceil(FUZZ_FRAMES / 10));

/** Counts of a fuzz run, printed at its end. */
interface Tally {
  frames: number;
  outputs: number;
  invalid: number;
  tooLarge: number;
}

function newTally(): Tally {
  return { frames: 0, outputs: 0, invalid: 0, tooLarge: 0 };
}

/**
 * Send frames on a fresh session and check every answer against the oracle. Outputs and
 * `INVALID_INPUT` must come in the order of their frames. `MESSAGE_TOO_LARGE` is checked by
 * count only: the server sends it the moment the frame arrives, ahead of the answers to
 * earlier frames (see "realtime answers an oversized frame in its turn" below).
 */
async function exchange(server: Served, frames: readonly (string | Uint8Array)[], tally: Tally) {
  await using peer = await Peer.open(`${server.ws}/rt`);
  const expected: Expected[] = [];
  for (const f of frames) {
    peer.socket.send(f);
    const e = expectRealtime(f);
    if (e.kind !== "none") expected.push(e);
  }
  const inOrder = expected.filter((e) => !(e.kind === "error" && e.code === "MESSAGE_TOO_LARGE"));
  const tooLarge = expected.length - inOrder.length;
  let seenTooLarge = 0;
  for (let i = 0; i < inOrder.length;) {
    const got = await peer.next();
    if (typeof got === "string") {
      const error = JSON.parse(got);
      assert.equal(error.type, "x-fal-error", got);
      if (error.error === "MESSAGE_TOO_LARGE") {
        seenTooLarge++;
        continue;
      }
      assert.deepEqual(
        { kind: "error", code: error.error },
        inOrder[i],
        `answer ${i} of ${inOrder.length}: ${got}`,
      );
    } else {
      const value = codec.decode(got);
      assert.deepEqual({ kind: "output", value }, inOrder[i], `answer ${i} of ${inOrder.length}`);
    }
    i++;
  }
  // Any MESSAGE_TOO_LARGE not seen yet was sent after the last in-order answer.
  while (seenTooLarge < tooLarge) {
    const got = await peer.next();
    assert.equal(typeof got, "string");
    assert.equal(JSON.parse(got as string).error, "MESSAGE_TOO_LARGE", got as string);
    seenTooLarge++;
  }
  tally.frames += frames.length;
  for (const e of expected) {
    if (e.kind === "output") tally.outputs++;
    else if (e.kind === "error" && e.code === "INVALID_INPUT") tally.invalid++;
    else tally.tooLarge++;
  }
}

/** The server is still up and serving after the fuzz: health, a session, an output. */
async function assertStillServing(server: Served, sessionCount: () => number) {
  const health = await fetch(`${server.http}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 42 });
  assert.deepEqual(await peer.output(), { echo: { n: 42 }, size: 0 });
  await peer.close();
  await waitFor(() => sessionCount() === 0, "no session to be left open");
}

function report(name: string, tally: Tally, started: number) {
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name}: ${tally.frames} frames (${tally.outputs} outputs, ${tally.invalid} INVALID_INPUT, ` +
      `${tally.tooLarge} MESSAGE_TOO_LARGE) in ${seconds.toFixed(1)} s`,
  );
}

Deno.test("fuzz: fast-check frames on a realtime endpoint each get their output or error frame", async () => {
  const { app, calls } = createFuzzApp();
  await using server = listen(app);
  const tally = newTally();
  const started = performance.now();
  const runs = Math.ceil((FUZZ_FRAMES * PROPERTY_SHARE) / BATCH);
  await fc.assert(
    fc.asyncProperty(
      fc.array(frame, { minLength: BATCH, maxLength: BATCH }),
      (frames) => exchange(server, frames, tally),
    ),
    { numRuns: runs, endOnFailure: true },
  );
  report("fast-check realtime", tally, started);
  assert.ok(tally.frames >= runs * BATCH);
  assert.equal(calls["/rt"], tally.outputs, "the handler ran once per valid frame");
  assert.ok(tally.outputs > tally.frames / 10, "a good share of the frames were valid");
  assert.ok(tally.invalid > tally.frames / 10, "a good share of the frames were not");
  assert.ok(tally.tooLarge > 0);
  await assertStillServing(server, () => app.sessionCount);
});

/** A random frame: mostly short, its first byte often a container's, every tenth one valid. */
function randomFrame(i: number, encoder: Codec): Uint8Array {
  if (i % 10 === 0) return encoder.encode({ n: i, prompt: `p${i}` });
  const size = i % 97 === 0
    ? SMALL_MAX_BYTES + 1 + (i % 500)
    : Math.floor(Math.random() ** 3 * 600);
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  // Maps and arrays (0x80..0x9f, 0xdc..0xdf) make random bytes decode further.
  if (size > 0 && i % 3 === 0) bytes[0] = 0x80 | (bytes[0] & 0x1f);
  return bytes;
}

Deno.test("fuzz: random-byte frames interleaved with valid inputs on a realtime endpoint", async () => {
  const { app, calls } = createFuzzApp();
  await using server = listen(app);
  const tally = newTally();
  const started = performance.now();
  const total = Math.ceil(FUZZ_FRAMES * (1 - PROPERTY_SHARE));
  const encoder = new Codec();
  const window = 2_000;
  for (let sent = 0; sent < total; sent += window) {
    const frames = Array.from(
      { length: Math.min(window, total - sent) },
      (_, k) => randomFrame(sent + k, encoder),
    );
    await exchange(server, frames, tally);
  }
  report("random-byte realtime", tally, started);
  assert.equal(tally.frames, total);
  assert.equal(calls["/rt"], tally.outputs);
  assert.ok(tally.outputs >= total / 10, "every valid input interleaved got its output");
  await assertStillServing(server, () => app.sessionCount);
});

Deno.test("fuzz: fast-check bodies on an HTTP endpoint each get the right status and output", async () => {
  const { app, calls } = createFuzzApp();
  await using server = listen(app);
  const statuses: Record<number, number> = {};
  const started = performance.now();
  const concurrency = 8;
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: concurrency, maxLength: concurrency }), (
      requests,
    ) =>
      Promise.all(requests.map(async (r) => {
        const expected = expectHttp(r);
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined) headers["content-type"] = r.contentType;
        if (r.msgpack) headers["accept"] = "application/msgpack";
        const bodyBytes = r.body.slice(); // its own ArrayBuffer, as fetch wants
        const body = r.chunked ? ReadableStream.from([bodyBytes]) : bodyBytes;
        const response = await fetch(`${server.http}/`, { method: "POST", headers, body });
        const bytes = new Uint8Array(await response.arrayBuffer());
        assert.equal(response.status, expected.status, new TextDecoder().decode(bytes));
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (expected.status !== 200) {
          const detail = JSON.parse(new TextDecoder().decode(bytes)).detail;
          assert.ok(detail !== undefined, "errors carry a FastAPI detail");
          return;
        }
        const value = r.msgpack ? codec.decode(bytes) : JSON.parse(new TextDecoder().decode(bytes));
        assert.deepEqual(value, expected.value);
      })).then(() => {})),
    { numRuns: Math.ceil(HTTP_REQUESTS / concurrency), endOnFailure: true },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`fast-check HTTP: ${JSON.stringify(statuses)} in ${seconds} s`);
  assert.equal(calls["/"], statuses[200]);
  for (const status of [200, 413, 415, 422]) assert.ok(statuses[status] > 0, `some ${status}`);
  assert.equal(statuses[500], undefined, "no request made the server fail");
  await assertStillServing(server, () => app.sessionCount);
});

Deno.test("realtime answers an oversized frame in its turn, after the outputs of earlier inputs", async () => {
  // docs/protocol.md: "outputs and error frames go out in that order" (arrival order). A client
  // that matches answers to inputs by order (rally's receive(), fal's clients) otherwise takes
  // the MESSAGE_TOO_LARGE for the answer to the input before it.
  const { app } = createFuzzApp();
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/rt`);
  for (let n = 0; n < 50; n++) peer.send({ n });
  peer.socket.send(new Uint8Array(SMALL_MAX_BYTES + 1));
  peer.send({ n: 50 });
  const answers: string[] = [];
  for (let i = 0; i < 52; i++) {
    const got = await peer.next();
    answers.push(
      typeof got === "string" ? JSON.parse(got).error : String(
        (codec.decode(got) as {
          echo: { n: number };
        }).echo.n,
      ),
    );
  }
  assert.deepEqual(answers, [
    ...Array.from({ length: 50 }, (_, n) => String(n)),
    "MESSAGE_TOO_LARGE",
    "50",
  ]);
});
