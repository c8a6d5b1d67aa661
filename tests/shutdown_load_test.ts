/**
 * Graceful shutdown under load: many sessions with long backlogs, some bad inputs among them,
 * inputs still arriving during the drain, and HTTP requests in flight. Every input the server
 * took must get its output, an error frame, or be counted in `unprocessed`; none may vanish.
 */
import assert from "node:assert/strict";
import { App } from "../server/mod.ts";
import {
  delay,
  listen,
  Peer,
  type Served,
  waitFor,
  waitForInputs,
  within,
} from "./_realtime_helpers.ts";

type N = { n: number };

/** How long an HTTP request takes: the grace is measured against it. */
const HTTP_MS = 800;

/**
 * An App whose `/rt` handler takes `ms` per input and fails inputs without a number `n`; the
 * first `sessions` calls wait until `release()` (or their signal aborts), so that a test can
 * have every input read while they wait.
 */
function loadedApp(ms: number, sessions: number) {
  const handled = { calls: 0, httpStarted: 0, http: 0 };
  const gate = Promise.withResolvers<void>();
  const app = new App({ onError() {}, metrics: true })
    .realtime("/rt", {}, async (input, ctx) => {
      if (typeof (input as N).n !== "number") throw new TypeError("no n");
      if (++handled.calls <= sessions) {
        await Promise.race([gate.promise, rejectOnAbort(ctx.signal)]);
      }
      await delay(ms, ctx.signal); // the handler's work: the grace is measured against it
      return { n: (input as N).n };
    })
    .endpoint("/slow", {}, async (_input, ctx) => {
      handled.httpStarted++;
      await delay(HTTP_MS, ctx.signal); // the handler's work: the grace is measured against it
      handled.http++;
      return { ok: true };
    });
  return { app, handled, release: () => gate.resolve() };
}

/** A promise that rejects with the signal's reason once it aborts. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** What one session saw: outputs, error frames, and the final `SHUTTING_DOWN`. */
interface Account {
  sent: number;
  outputs: number[];
  errors: number;
  unprocessed: number;
  closeCode: number;
}

/** Send `count` inputs, every tenth one bad (it gets `INTERNAL_ERROR`). */
function sendLoad(peer: Peer, from: number, count: number): number {
  for (let n = from; n < from + count; n++) peer.send(n % 10 === 9 ? { bad: n } : { n });
  return count;
}

/** Read a session to its end and account for every frame. */
async function account(peer: Peer, sent: () => number): Promise<Account> {
  const outputs: number[] = [];
  let errors = 0;
  let unprocessed = -1;
  for (const frame of await peer.rest()) {
    if (typeof frame !== "string") {
      outputs.push((frame as N).n);
      continue;
    }
    const error = JSON.parse(frame);
    if (error.error === "SHUTTING_DOWN") {
      assert.equal(unprocessed, -1, "one SHUTTING_DOWN");
      assert.equal(error.retryable, true);
      unprocessed = error.unprocessed;
    } else {
      assert.equal(error.error, "INTERNAL_ERROR", frame);
      errors++;
    }
  }
  assert.notEqual(unprocessed, -1, "the session ended with SHUTTING_DOWN");
  return { sent: sent(), outputs, errors, unprocessed, closeCode: (await peer.closeEvent()).code };
}

async function loadThenShutdown(options: {
  sessions: number;
  perSession: number;
  handlerMs: number;
  graceMs: number;
  duringDrain: number;
}) {
  const { app, handled, release } = loadedApp(options.handlerMs, options.sessions);
  const server: Served = listen(app, options.graceMs);
  const peers = await Promise.all(
    Array.from({ length: options.sessions }, () => Peer.open(`${server.ws}/rt`, { meta: false })),
  );
  const sent = peers.map((peer) => sendLoad(peer, 0, options.perSession));
  // HTTP requests in flight when the shutdown begins.
  const requests = Array.from(
    { length: 20 },
    () =>
      fetch(`${server.http}/slow`, { method: "POST" }).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      }),
  );
  await waitFor(() => handled.calls >= options.sessions, "every session to be working");
  await waitFor(() => handled.httpStarted === 20, "the HTTP requests to be in flight");
  // The first calls are still waiting while the server reads every input sent.
  await waitForInputs(server, options.sessions * options.perSession);
  const accounts = peers.map((peer, i) => account(peer, () => sent[i]));
  const started = performance.now();
  const stopped = server.shutdown();
  release();
  // Inputs that arrive while the server drains: refused, and counted.
  peers.forEach((peer, i) => sent[i] += sendLoad(peer, options.perSession, options.duringDrain));
  const results = await within(Promise.all(accounts), "every session to end", 30_000);
  await within(stopped, "the server to stop", 30_000);
  const drainMs = performance.now() - started;
  const statuses = await Promise.all(requests);
  if (options.graceMs > HTTP_MS) {
    assert.deepEqual(statuses, Array(20).fill(200), "requests in flight finish");
    assert.equal(handled.http, 20);
  } else {
    // Cut off at the grace: each still gets an answer (its handler's signal aborted).
    assert.deepEqual(statuses, Array(20).fill(500), "requests cut off get a 500");
  }
  assert.equal(app.sessionCount, 0);

  let outputs = 0, errors = 0, unprocessed = 0, sentTotal = 0;
  for (const [i, a] of results.entries()) {
    assert.equal(a.closeCode, 1001, `session ${i}`);
    assert.equal(
      a.outputs.length + a.errors + a.unprocessed,
      a.sent,
      `session ${i}: ${a.outputs.length} outputs + ${a.errors} errors + ${a.unprocessed} ` +
        `unprocessed != ${a.sent} sent`,
    );
    // Outputs in order: the valid inputs from the first, without a gap, up to where it stopped.
    const valid = Array.from({ length: a.sent }, (_, n) => n).filter((n) => n % 10 !== 9);
    assert.deepEqual(a.outputs, valid.slice(0, a.outputs.length), `session ${i}: in order`);
    outputs += a.outputs.length;
    errors += a.errors;
    unprocessed += a.unprocessed;
    sentTotal += a.sent;
  }
  console.log(
    `shutdown under load (${options.sessions} sessions, grace ${options.graceMs} ms): ` +
      `${sentTotal} inputs = ${outputs} outputs + ${errors} error frames + ${unprocessed} ` +
      `unprocessed; drained in ${drainMs.toFixed(0)} ms`,
  );
  return { outputs, errors, unprocessed, sent: sentTotal };
}

Deno.test("shutdown under load answers every input taken before it began, and counts the rest", async () => {
  const duringDrain = 5;
  const totals = await loadThenShutdown({
    sessions: 40,
    perSession: 100,
    handlerMs: 2,
    graceMs: 20_000,
    duringDrain,
  });
  // With a long grace, only the inputs sent during the drain go unprocessed.
  assert.equal(totals.unprocessed, 40 * duringDrain);
  assert.equal(totals.errors, 40 * 10);
});

Deno.test("shutdown under load with a short grace counts what it cut off as unprocessed", async () => {
  const totals = await loadThenShutdown({
    sessions: 30,
    perSession: 300,
    handlerMs: 5,
    graceMs: 300,
    duringDrain: 5,
  });
  assert.ok(totals.unprocessed > 30 * 5, `${totals.unprocessed} unprocessed`);
  assert.ok(totals.outputs > 0);
});

Deno.test("shutdown under load: a client that sends and leaves during the drain costs nothing", async () => {
  const { app, release } = loadedApp(2, 2);
  const server = listen(app, 5_000);
  const stay = await Peer.open(`${server.ws}/rt`);
  const leave = await Peer.open(`${server.ws}/rt`);
  sendLoad(stay, 0, 50);
  sendLoad(leave, 0, 50);
  await waitForInputs(server, 100);
  const stopped = server.shutdown();
  release();
  await leave.close();
  const a = await account(stay, () => 50);
  assert.equal(a.outputs.length + a.errors + a.unprocessed, 50);
  await within(stopped, "the server to stop");
  assert.equal(app.sessionCount, 0);
});
