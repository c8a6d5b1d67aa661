// `@rally/rally/testing`: an App served in memory runs its door (auth, origin, maxSessions), its
// sessions and its client the same way as over a port; the in-memory socket keeps WebSocket
// semantics. No test here listens on a port.
import assert from "node:assert/strict";
import { z } from "zod";
import { connect, fetchToken, realtime, RealtimeError, wsConnect } from "../client/mod.ts";
import { App, type EndpointType, type RealtimeType } from "../server/mod.ts";
import { testClient } from "../testing/mod.ts";
import { socketPair } from "../testing/socket_pair.ts";
import { aborted, waitFor, within } from "./_realtime_helpers.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes!";
const Prompt = z.object({ prompt: z.string() });

/** Resolve with a socket's close event. */
function closeOf(socket: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
}

Deno.test("testing: auth, origin and maxSessions refuse an in-memory upgrade as they would a real one", async () => {
  const app = new App({
    name: "guarded",
    auth: { keys: ["k1"], secret: SECRET },
    allowedOrigins: ["https://ok.example"],
    maxSessions: 1,
  }).realtime("/rt", {}, (input) => input);
  await using t = testClient(app);
  // No credentials: 401 before the upgrade; the client sees a failed handshake (1006).
  const refused = t.webSocket("/rt");
  const errorEvent = new Promise<Event>((resolve) => refused.onerror = resolve);
  assert.equal((await closeOf(refused)).code, 1006);
  assert.match((await errorEvent as ErrorEvent).message, /Invalid status code: 401/);
  // A foreign Origin: 403.
  const foreign = t.webSocket("/rt", { authorization: "Key k1", origin: "https://evil.example" });
  foreign.onerror = () => {};
  assert.equal((await closeOf(foreign)).code, 1006);
  // With a key, then a token minted by POST /tokens, as in production.
  await using conn = await realtime(t.url, { path: "/rt", key: "k1" });
  conn.send({ n: 1 });
  assert.deepEqual(await conn.receive(), { n: 1 });
  // maxSessions 1: the second session gets 503.
  const token = await fetchToken(t.url, { key: "k1", app: "guarded" });
  await assert.rejects(realtime(t.url, { path: "/rt", token }), (error) => {
    assert.ok(error instanceof RealtimeError);
    assert.equal(error.code, "CONNECTION_CLOSED");
    return true;
  });
  await conn.close();
  await waitFor(() => app.sessionCount === 0, "the session to end");
  await using again = await realtime(t.url, { path: "/rt", token });
  again.send({ n: 2 });
  assert.deepEqual(await again.receive(), { n: 2 });
  assert.equal((await t.fetch("/health")).status, 200);
  assert.equal((await t.fetch("/openapi.json")).status, 401);
});

Deno.test("testing: the in-memory socket counts bufferedAmount until delivery and keeps order", async () => {
  const { client, server } = socketPair("ws://memory/");
  const received: unknown[] = [];
  server.onmessage = (event) => received.push(event.data);
  const serverClosed = new Promise<CloseEvent>((resolve) => server.onclose = resolve);
  assert.throws(
    () => client.send("early"),
    (error) => (error as DOMException).name === "InvalidStateError",
  );
  server.open();
  client.open();
  await new Promise((resolve) => client.onopen = resolve);
  client.binaryType = "arraybuffer";
  const bytes = new Uint8Array([1, 2, 3]);
  client.send("héllo"); // 6 bytes of UTF-8
  client.send(bytes);
  bytes[0] = 9; // the bytes were copied at send()
  assert.equal(client.bufferedAmount, 9);
  await waitFor(() => received.length === 2, "both messages");
  assert.equal(client.bufferedAmount, 0);
  assert.equal(received[0], "héllo");
  assert.deepEqual(new Uint8Array(received[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
  assert.throws(
    () => client.close(1001),
    (error) => (error as DOMException).name === "InvalidAccessError",
  );
  const clientClosed = closeOf(client as unknown as WebSocket);
  client.close(4000, "bye");
  client.send("after close"); // dropped, as Deno drops it
  const [atServer, atClient] = await Promise.all([serverClosed, clientClosed]);
  assert.deepEqual([atServer.code, atServer.reason, atServer.wasClean], [4000, "bye", true]);
  assert.deepEqual([atClient.code, atClient.reason, atClient.wasClean], [4000, "bye", true]);
  assert.equal(received.length, 2);
});

Deno.test("testing: close() cuts open sockets with 1006 and the App's sessions end", async () => {
  let signal: AbortSignal | undefined;
  const app = new App().websocket("/hold", async (socket, ctx) => {
    signal = ctx.signal;
    await socket.receive();
  });
  const t = testClient(app);
  const socket = t.webSocket("/hold");
  await new Promise((resolve) => socket.onopen = resolve);
  const closed = closeOf(socket);
  await t.close();
  assert.equal((await closed).code, 1006);
  await within(aborted(signal!), "the handler's signal to abort");
  await waitFor(() => app.sessionCount === 0, "the session to be forgotten");
});

Deno.test("testing: an SSE client that leaves aborts the handler's signal", async () => {
  const left = Promise.withResolvers<void>();
  const app = new App().stream("/ticks", {}, async function* (_input, ctx) {
    ctx.signal.addEventListener("abort", () => left.resolve());
    for (let i = 0; !ctx.signal.aborted; i++) {
      yield { i };
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  });
  await using t = testClient(app);
  for await (const tick of t.stream("/ticks")) {
    if (tick.i === 2) break;
  }
  await within(left.promise, "the handler to see the client leave");
});

Deno.test("testing: disconnect() cuts connections and the callback client reconnects", async () => {
  const app = new App().realtime("/rt", { input: Prompt }, (input) => ({ echo: input.prompt }));
  await using t = testClient(app);
  const results: unknown[] = [];
  const closes: number[] = [];
  let opens = 0;
  const handle = connect<{ prompt: string }, { echo: string }>(t.url, {
    path: "/rt",
    onResult: (result) => results.push(result),
    onOpen: () => opens++,
    onClose: (event) => closes.push(event.code),
    reconnect: { baseMs: 1, capMs: 5 },
  });
  try {
    handle.send({ prompt: "one" });
    await waitFor(() => results.length === 1, "the first result");
    await t.disconnect();
    await waitFor(() => opens === 2, "the client to reconnect by itself");
    handle.send({ prompt: "two" });
    await waitFor(() => results.length === 2, "the second result");
  } finally {
    handle.close();
  }
  assert.deepEqual(results, [{ echo: "one" }, { echo: "two" }]);
  assert.equal(closes[0], 1006);
});

Deno.test("testing: the test client is typed from a class-form App's declaration", async () => {
  class Upper extends App<{
    "/": EndpointType<typeof Prompt, { upper: string }>;
    "/live": RealtimeType<typeof Prompt, { upper: string }, "bidi">;
  }> {
    @App.endpoint("/", { input: Prompt })
    upper(input: z.infer<typeof Prompt>) {
      return { upper: input.prompt.toUpperCase() };
    }

    @App.realtime("/live", { input: Prompt, mode: "bidi" })
    async *live(inputs: AsyncIterable<z.infer<typeof Prompt>>) {
      for await (const input of inputs) yield { upper: input.prompt.toUpperCase() };
    }
  }
  await using t = testClient(new Upper());
  const out: { upper: string } = await t.run("/", { prompt: "abc" });
  assert.deepEqual(out, { upper: "ABC" });
  await using live = await t.realtime("/live");
  live.send({ prompt: "x" });
  live.send({ prompt: "y" });
  live.end();
  const outputs: { upper: string }[] = [];
  for await (const output of live) outputs.push(output);
  assert.deepEqual(outputs, [{ upper: "X" }, { upper: "Y" }]);
  // @ts-expect-error "/live" is a realtime route, not an HTTP endpoint
  await assert.rejects(t.run("/live", { prompt: "x" }));
  await using ws = await wsConnect(t.url, { path: "/live" });
  assert.equal(typeof ws.send, "function");
});

Deno.test("testing: a drained App starts again under a new test client, as under a new serve()", async () => {
  let setups = 0;
  const app = new App({ setup: () => void setups++ }).endpoint("/", {}, () => ({ setups }));
  {
    await using t = testClient(app);
    assert.deepEqual(await t.run("/"), { setups: 1 });
    await app.drain(0);
    assert.equal((await t.fetch("/health")).status, 503);
  }
  await using t = testClient(app);
  assert.deepEqual(await t.run("/"), { setups: 2 });
});
