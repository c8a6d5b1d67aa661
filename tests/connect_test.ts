import assert from "node:assert/strict";
import { z } from "zod";
import { connect, type ConnectOptions, realtime, RealtimeError } from "../client/mod.ts";
import { Codec } from "../codec.ts";
import { App } from "../server/mod.ts";
import { bareServer, delay, listen, Op, rawAccept, waitFor, within } from "./_realtime_helpers.ts";

type N = { n: number };

const codec = new Codec();

/** The callbacks of a `connect()` client, recording what they are called with. */
class Recorder<O = Record<string, unknown>> {
  results: O[] = [];
  errors: RealtimeError[] = [];
  opens = 0;
  closes: { code: number; reason: string }[] = [];
  options: Pick<ConnectOptions<O>, "onResult" | "onError" | "onOpen" | "onClose"> = {
    onResult: (result) => this.results.push(result),
    onError: (error) => this.errors.push(error),
    onOpen: () => this.opens++,
    onClose: (event) => this.closes.push(event),
  };
}

/** An app at `/rt` that records each input's `n` and echoes the input. */
function echoApp(options: { sessionTimeout?: number; heartbeat?: number; hello?: boolean } = {}) {
  const seen: number[] = [];
  const app = new App({ onError() {} }).realtime("/rt", options, (input) => {
    seen.push((input as N).n);
    return input;
  });
  return { app, seen };
}

Deno.test("connect calls onOpen, onResult for each output, and onClose after close()", async () => {
  const { app } = echoApp();
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", ...rec.options });
  handle.send({ n: 1 });
  await waitFor(() => rec.results.length === 1, "the first result");
  handle.send({ n: 2 });
  await waitFor(() => rec.results.length === 2, "the second result");
  assert.deepEqual(rec.results, [{ n: 1 }, { n: 2 }]);
  assert.equal(rec.opens, 1);
  assert.equal(rec.closes.length, 0);
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
  assert.equal(rec.closes[0].code, 1000);
  assert.equal(rec.errors.length, 0);
  await waitFor(() => app.sessionCount === 0, "the session to end");
  handle.send({ n: 3 }); // after close(): nothing happens
  await delay(100); // an absence: a reconnect would start at once, well within this window
  assert.equal(rec.opens, 1);
});

Deno.test("connect throttles sends: the first at once, then only the latest per interval", async () => {
  const { app, seen } = echoApp();
  await using server = listen(app);
  const rec = new Recorder();
  const throttleInterval = 400;
  const handle = connect(server.http, { path: "/rt", throttleInterval, ...rec.options });
  await waitFor(() => rec.opens === 1, "the connection to open");
  // One synchronous burst: no timer can fire inside it, so all ten fall in the first interval.
  for (let n = 0; n < 10; n++) handle.send({ n });
  await waitFor(() => seen.includes(9), "the trailing input");
  assert.deepEqual(seen, [0, 9]);
  // The interval is the behaviour under test: wait on the clock (bounded) until the one that
  // began with the trailing send is over, so that the next input is a leading one again.
  const trailingSeen = performance.now();
  await waitFor(() => performance.now() - trailingSeen > throttleInterval, "a new interval");
  for (let n = 10; n < 13; n++) handle.send({ n });
  await waitFor(() => seen.includes(12), "the second trailing input");
  assert.deepEqual(seen, [0, 9, 10, 12]);
  await waitFor(() => rec.results.length === 4, "their results");
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
});

Deno.test("connect keeps only the newest input while connecting", async () => {
  const { app, seen } = echoApp();
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", ...rec.options });
  for (let n = 0; n < 5; n++) handle.send({ n }); // all before the socket opens
  await waitFor(() => rec.results.length === 1, "the waiting input's result");
  handle.send({ n: 5 });
  await waitFor(() => rec.results.length === 2, "the next result");
  assert.deepEqual(seen, [4, 5]);
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
});

Deno.test("connect reports a non-retryable error frame to onError and keeps the connection", async () => {
  const app = new App({ onError() {} }).realtime(
    "/rt",
    { input: z.object({ n: z.number() }) },
    (input) => input,
  );
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", ...rec.options });
  handle.send({ n: "one" });
  await waitFor(() => rec.errors.length === 1, "onError");
  assert.equal(rec.errors[0].code, "INVALID_INPUT");
  assert.deepEqual(rec.errors[0].issues?.[0].path, ["n"]);
  handle.send({ n: 2 });
  await waitFor(() => rec.results.length === 1, "the next result");
  assert.deepEqual(rec.results, [{ n: 2 }]);
  assert.equal(rec.opens, 1);
  assert.equal(rec.closes.length, 0);
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
  assert.equal(rec.errors.length, 1);
});

Deno.test("connect does not report TIMEOUT and reconnects on the next send", async () => {
  const { app, seen } = echoApp({ sessionTimeout: 0.2 });
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", ...rec.options });
  handle.send({ n: 1 });
  await waitFor(() => rec.closes.length === 1, "the TIMEOUT close");
  assert.equal(rec.closes[0].code, 1000);
  await delay(500); // an absence: no reconnect in this window, nothing was sent
  assert.equal(rec.opens, 1, "no reconnect until something is sent");
  assert.equal(app.sessionCount, 0);
  for (let n = 2; n < 5; n++) handle.send({ n }); // while reconnecting, the newest waits
  await waitFor(() => rec.results.length === 2, "the result after reconnecting");
  assert.deepEqual(seen, [1, 4]);
  assert.equal(rec.opens, 2);
  assert.equal(rec.errors.length, 0);
  handle.close();
  await waitFor(() => rec.closes.length === 2, "onClose");
});

Deno.test("connect reconnects by itself after a server restart on the same port, with a fresh token", async () => {
  let provided = 0;
  const makeApp = () =>
    new App({ onError() {} }).realtime("/rt", {}, (input, ctx) => ({
      ...(input as N),
      token: new URL(ctx.request.url).searchParams.get("fal_jwt_token"),
    }));
  const first = listen(makeApp());
  const { port } = first.addr;
  const rec = new Recorder();
  const handle = connect(first.http, {
    path: "/rt",
    tokenProvider: async () => {
      await delay(1); // a provider that takes a moment (not a synchronisation)
      return `token-${++provided}`;
    },
    ...rec.options,
  });
  handle.send({ n: 1 });
  await waitFor(() => rec.results.length === 1, "the first result");
  assert.deepEqual(rec.results[0], { n: 1, token: "token-1" });

  await first.shutdown();
  await waitFor(() => rec.closes.length === 1, "the close");
  handle.send({ n: 2 }); // waits for the new connection
  // Down until the client has been refused 3 times: those must not count as auth refusals.
  await waitFor(() => provided >= 4, "three reconnect attempts to be refused");
  await using _second = listen(makeApp(), 5_000, port);
  await waitFor(() => rec.results.length === 2, "the result after the restart");
  assert.ok(provided >= 5, `tokenProvider called ${provided} times: once per attempt`);
  assert.deepEqual(rec.results[1], { n: 2, token: `token-${provided}` });
  assert.equal(rec.opens, 2);
  assert.deepEqual(rec.closes[0], { code: 1001, reason: "server is shutting down" });
  assert.deepEqual(rec.errors.map((error) => error.code), ["SHUTTING_DOWN"]);
  handle.send({ n: 3 });
  await waitFor(() => rec.results.length === 3, "the next result");
  handle.close();
  await waitFor(() => rec.closes.length === 2, "onClose");
});

Deno.test("connect gives up after auth is refused 3 times before open, with one onError", async () => {
  let attempts = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    if (request.headers.get("upgrade") === "websocket") attempts++;
    return Response.json({ detail: "Invalid token" }, { status: 401 });
  });
  try {
    const rec = new Recorder();
    const handle = connect(`http://127.0.0.1:${server.addr.port}`, {
      token: "expired",
      reconnect: { baseMs: 20 },
      ...rec.options,
    });
    await waitFor(() => rec.errors.length === 1, "onError");
    await delay(300); // an absence: a fourth attempt would come within 80 ms
    assert.equal(attempts, 3);
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.errors[0].code, "CONNECTION_CLOSED");
    assert.match(rec.errors[0].reason, /3 times/);
    assert.equal(rec.opens, 0);
    handle.send({ n: 1 }); // given up: nothing happens
    await delay(100); // an absence: a new attempt would start at once
    assert.equal(attempts, 3);
    handle.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("connect gives up with onError when its reconnect attempts run out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const rec = new Recorder();
  const handle = connect(`ws://127.0.0.1:${listener.addr.port}`, {
    reconnect: { baseMs: 20, attempts: 2 },
    ...rec.options,
  });
  const { socket } = await rawAccept(listener);
  await waitFor(() => rec.opens === 1, "the connection to open");
  listener.close(); // later attempts are refused
  socket[Symbol.dispose](); // the connection drops: 1006
  await waitFor(() => rec.errors.length === 1, "onError");
  assert.equal(rec.closes[0].code, 1006);
  assert.equal(rec.errors[0].code, "CONNECTION_CLOSED");
  assert.match(rec.errors[0].reason, /after 2 reconnect attempts/);
  await delay(200); // an absence: no second onError (attempts are 20..40 ms apart)
  assert.equal(rec.errors.length, 1);
  handle.close();
});

Deno.test("connect replaces a silent connection after two missed heartbeats", async () => {
  const sockets: WebSocket[] = [];
  let closed = 0;
  // Pings once (so the client knows it is a server that pings), then never sends anything.
  const { server, url } = bareServer((socket) => {
    sockets.push(socket);
    socket.send('{"type":"x-fal-message","action":"ping"}');
    socket.onclose = () => closed++;
  });
  try {
    const rec = new Recorder();
    const handle = connect(url, { heartbeat: 0.2, reconnect: { baseMs: 20 }, ...rec.options });
    await waitFor(() => rec.opens === 2, "a second connection");
    assert.equal(sockets.length, 2);
    assert.equal(rec.closes[0].code, 1006);
    assert.match(rec.closes[0].reason, /heartbeat/);
    assert.equal(rec.errors.length, 0);
    handle.close();
    await waitFor(() => closed === 2, "both sockets to close");
    await waitFor(() => rec.closes.length === 2, "onClose");
  } finally {
    await server.shutdown();
  }
});

Deno.test("connect keeps a quiet connection to a server that never pings (fal's)", async () => {
  const { app } = echoApp({ hello: false, heartbeat: 0 });
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", heartbeat: 0.2, ...rec.options });
  await waitFor(() => rec.opens === 1, "the connection to open");
  await delay(1_000); // time is the behaviour under test: five heartbeats of silence
  assert.equal(rec.opens, 1);
  assert.equal(rec.closes.length, 0);
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
});

Deno.test("connect keeps a connection whose server pings", async () => {
  const { app } = echoApp({ heartbeat: 0.2 });
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/rt", heartbeat: 0.2, ...rec.options });
  await waitFor(() => rec.opens === 1, "the connection to open");
  await delay(1_200); // time is the behaviour under test: six heartbeats, no input
  assert.equal(rec.opens, 1);
  assert.equal(rec.results.length, 0, "pings and hello are not results");
  assert.equal(rec.closes.length, 0);
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
});

Deno.test("connect refuses an input over the hello limit locally", async () => {
  const { app, seen } = echoApp();
  app.realtime("/small", { maxMessageBytes: 1024 }, (input) => {
    seen.push((input as N).n);
    return input;
  });
  await using server = listen(app);
  const rec = new Recorder();
  const handle = connect(server.http, { path: "/small", ...rec.options });
  handle.send({ n: 1 });
  await waitFor(() => rec.results.length === 1, "the first result"); // hello came before it
  handle.send({ n: 2, pad: "x".repeat(2000) });
  assert.equal(rec.errors.length, 1, "refused at once");
  assert.equal(rec.errors[0].code, "MESSAGE_TOO_LARGE");
  assert.match(rec.errors[0].reason, /over the server's limit of 1024/);
  handle.send({ n: 3 });
  await waitFor(() => rec.results.length === 2, "the next result");
  assert.deepEqual(seen, [1, 3], "the oversized input was never sent");
  assert.equal(rec.errors.length, 1, "and the server sent no error for it");
  handle.close();
  await waitFor(() => rec.closes.length === 1, "onClose");
});

Deno.test("connect close() stops reconnects", async () => {
  let attempts = 0;
  const { server, url } = bareServer((socket) => {
    attempts++;
    socket.close(1011, "broken");
  });
  try {
    const rec = new Recorder();
    const handle = connect(url, { reconnect: { baseMs: 300 }, ...rec.options });
    await waitFor(() => rec.closes.length === 1, "the server's close");
    assert.equal(rec.closes[0].code, 1011);
    handle.close(); // the retry (150..300 ms away) is cancelled
    await delay(700); // an absence: the cancelled retry would have come within 300 ms
    assert.equal(attempts, 1);
    assert.equal(rec.opens, 1);
    assert.equal(rec.errors.length, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("realtime drained() resolves once the socket has sent its buffer", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connecting = realtime(`ws://127.0.0.1:${listener.addr.port}`);
  const { socket } = await rawAccept(listener); // a server that does not read yet
  using _socket = socket;
  const conn = await connecting;
  const count = 16;
  for (let i = 0; i < count; i++) conn.send({ big: new Uint8Array(1024 * 1024) });
  let drained = false;
  const draining = conn.drained().then(() => drained = true);
  await delay(200); // an absence: drained() must not resolve while the peer does not read
  assert.equal(drained, false, "megabytes are still buffered");
  for (let i = 0; i < count; i++) {
    assert.equal((await within(socket.readFrame(), "an input"))?.opcode, Op.binary);
  }
  await within(draining, "drained() to resolve");
  await within(conn.drained(), "drained() on an empty buffer");
  const closing = conn.close();
  assert.equal((await within(socket.readFrame(), "the close frame"))?.opcode, Op.close);
  await socket.writeClose(1000);
  await closing;
});

Deno.test("realtime send over the hello limit throws MESSAGE_TOO_LARGE", async () => {
  const { app, seen } = echoApp();
  app.realtime("/small", { maxMessageBytes: 1024 }, (input) => {
    seen.push((input as N).n);
    return input;
  });
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/small" });
  conn.send({ n: 1 });
  assert.deepEqual(await conn.receive(), { n: 1 }); // the hello came before it
  assert.throws(
    () => conn.send({ n: 2, pad: "x".repeat(2000) }),
    (error) => error instanceof RealtimeError && error.code === "MESSAGE_TOO_LARGE",
  );
  conn.send({ n: 3 });
  assert.deepEqual(await conn.receive(), { n: 3 });
  assert.deepEqual(seen, [1, 3]);
});

Deno.test("connect holds inputs after SHUTTING_DOWN and sends the latest on the next connection", async () => {
  const received: unknown[][] = [];
  const sockets: WebSocket[] = [];
  // The first connection answers its first input with SHUTTING_DOWN and is closed with 1001 by
  // the test once the client has sent again; the second records what it gets.
  const { server, url } = bareServer((socket) => {
    const mine: unknown[] = [];
    const first = received.length === 0;
    received.push(mine);
    sockets.push(socket);
    socket.onmessage = (event) => {
      mine.push(codec.decode(event.data));
      if (first && mine.length === 1) {
        socket.send(
          '{"type":"x-fal-error","error":"SHUTTING_DOWN","reason":"server is shutting down"}',
        );
      }
    };
  });
  try {
    const rec = new Recorder();
    const handle = connect<N>(url, { reconnect: { baseMs: 20 }, ...rec.options });
    await waitFor(() => rec.opens === 1, "the connection to open");
    handle.send({ n: 1 });
    await waitFor(() => rec.errors.length === 1, "SHUTTING_DOWN");
    handle.send({ n: 2 });
    handle.send({ n: 3 });
    sockets[0].close(1001, "server is shutting down"); // both were sent while it was open
    await waitFor(() => received.length === 2 && received[1].length === 1, "the next connection");
    assert.deepEqual(received, [[{ n: 1 }], [{ n: 3 }]], "nothing more to the draining server");
    assert.equal(rec.errors[0].code, "SHUTTING_DOWN");
    assert.deepEqual(rec.closes.map((c) => c.code), [1001]);
    handle.close();
    await waitFor(() => rec.closes.length === 2, "onClose");
  } finally {
    await server.shutdown();
  }
});
