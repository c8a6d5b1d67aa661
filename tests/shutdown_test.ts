import assert from "node:assert/strict";
import { realtime, RealtimeError } from "../client/mod.ts";
import { App } from "../server/mod.ts";
import {
  aborted,
  codec,
  delay,
  listen,
  Peer,
  rawConnect,
  waitFor,
  waitForInputs,
  within,
} from "./_realtime_helpers.ts";

type N = { n: number };

/** An app whose realtime handler at `/rt` answers each input after `ms`. */
function slowApp(ms: number) {
  const seen: number[] = [];
  const app = new App({ onError() {}, metrics: true }).realtime("/rt", {}, async (input, ctx) => {
    seen.push((input as N).n);
    await delay(ms, ctx.signal); // the handler's work: the grace is measured against it
    return input;
  });
  return { app, seen };
}

/** Read outputs until the error frame that ends them; returns both. */
async function drainOutputs(peer: Peer) {
  const outputs: unknown[] = [];
  for (;;) {
    const frame = await peer.next();
    if (typeof frame === "string") return { outputs, frame: JSON.parse(frame) };
    outputs.push(codec.decode(frame));
  }
}

Deno.test("shutdown handles pending inputs within the grace, then sends SHUTTING_DOWN and 1001", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const seen: number[] = [];
  const app = new App({ metrics: true }).realtime("/rt", {}, async (input) => {
    seen.push((input as N).n);
    if (seen.length === 1) await gate;
    await delay(20); // the handler's work, well within the grace
    return input;
  });
  const server = listen(app, 5_000);
  await using peer = await Peer.open(`${server.ws}/rt`);
  for (let n = 0; n < 5; n++) peer.send({ n });
  await waitFor(() => seen.length === 1, "the first call");
  await waitForInputs(server, 5); // the server has read the other inputs; the first call waits
  const shutdown = server.shutdown();
  release();
  const { outputs, frame } = await drainOutputs(peer);
  assert.deepEqual(outputs, [0, 1, 2, 3, 4].map((n) => ({ n })));
  assert.deepEqual(frame, {
    type: "x-fal-error",
    error: "SHUTTING_DOWN",
    reason: frame.reason,
    retryable: true,
    unprocessed: 0,
  });
  assert.equal((await peer.closeEvent()).code, 1001);
  await within(shutdown, "the server to stop");
  assert.equal(app.sessionCount, 0);
});

Deno.test("shutdown with a short grace counts the inputs it did not handle as unprocessed", async () => {
  const { app, seen } = slowApp(100);
  const server = listen(app, 150);
  await using peer = await Peer.open(`${server.ws}/rt`);
  for (let n = 0; n < 10; n++) peer.send({ n });
  await waitFor(() => seen.length === 1, "the first call");
  await waitForInputs(server, 10); // the server has read the other inputs; the handler works
  const shutdown = server.shutdown();
  const { outputs, frame } = await drainOutputs(peer);
  assert.equal(frame.error, "SHUTTING_DOWN");
  assert.equal(frame.retryable, true);
  assert.ok(frame.unprocessed > 0, `${frame.unprocessed} unprocessed`);
  assert.equal(outputs.length + frame.unprocessed, 10, "every input is answered or counted");
  assert.deepEqual(outputs, seen.slice(0, outputs.length).map((n) => ({ n })));
  assert.equal((await peer.closeEvent()).code, 1001);
  await within(shutdown, "the server to stop");
});

Deno.test("shutdown counts inputs that arrive during the drain as unprocessed", async () => {
  const { app, seen } = slowApp(200);
  const server = listen(app, 5_000);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 0 });
  await waitFor(() => seen.length === 1, "the first call");
  const shutdown = server.shutdown();
  for (let n = 1; n < 4; n++) peer.send({ n });
  const { outputs, frame } = await drainOutputs(peer);
  assert.deepEqual(outputs, [{ n: 0 }]);
  assert.equal(frame.unprocessed, 3);
  assert.deepEqual(seen, [0]);
  await within(shutdown, "the server to stop");
});

Deno.test("shutdown answers new connections with 503 while it drains", async () => {
  const { app, seen } = slowApp(100);
  const server = listen(app, 5_000);
  await using peer = await Peer.open(`${server.ws}/rt`);
  for (let n = 0; n < 5; n++) peer.send({ n });
  await waitFor(() => seen.length === 1, "the first call");
  const shutdown = server.shutdown();
  const { status, socket } = await rawConnect(server.addr.port, "/rt");
  socket[Symbol.dispose]();
  assert.equal(status, 503);
  const error = await realtime(server.http, { path: "/rt" }).catch((error) => error);
  assert.ok(error instanceof RealtimeError);
  assert.equal(error.code, "CONNECTION_CLOSED");
  const { outputs, frame } = await drainOutputs(peer);
  assert.ok(outputs.length > 0, "the open session still drains");
  assert.equal(frame.error, "SHUTTING_DOWN");
  assert.equal(outputs.length + frame.unprocessed, 5);
  await within(shutdown, "the server to stop");
});

Deno.test("shutdown closes an idle realtime session at once", async () => {
  const { app } = slowApp(0);
  const server = listen(app, 60_000);
  await using peer = await Peer.open(`${server.ws}/rt`);
  await within(server.shutdown(), "the server to stop, long before the grace");
  const frame = await peer.control();
  assert.equal(frame.error, "SHUTTING_DOWN");
  assert.equal(frame.unprocessed, 0);
  assert.equal((await peer.closeEvent()).code, 1001);
});

Deno.test("shutdown aborts a raw WebSocket handler after the grace and closes with 1001", async () => {
  let sawAbort = false;
  const app = new App().websocket("/wait", async (socket) => {
    await aborted(socket.signal);
    sawAbort = true;
  });
  const server = listen(app, 100);
  await using peer = await Peer.open(`${server.ws}/wait`);
  await waitFor(() => app.sessionCount === 1, "the session to start");
  await within(server.shutdown(), "the server to stop");
  assert.equal((await peer.closeEvent()).code, 1001);
  assert.ok(sawAbort);
});

Deno.test("shutdown lets a raw WebSocket handler that finishes within the grace close normally", async () => {
  const app = new App().websocket("/work", async (socket) => {
    await socket.receive();
    await delay(50); // the handler's work, well within the grace
    socket.send("done");
  });
  const server = listen(app, 5_000);
  await using peer = await Peer.open(`${server.ws}/work`);
  peer.socket.send("go");
  await waitFor(() => app.sessionCount === 1, "the session to start");
  const shutdown = server.shutdown();
  assert.equal(await peer.next(), "done");
  assert.equal((await peer.closeEvent()).code, 1000);
  await within(shutdown, "the server to stop");
});
