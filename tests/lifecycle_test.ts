import assert from "node:assert/strict";
import { realtime, run, stream } from "../client/mod.ts";
import { App, serve } from "../server/mod.ts";
import { runnerOf } from "../server/app.ts";
import { aborted, delay, listen, Peer, waitFor, within } from "./_realtime_helpers.ts";
import { VERSION } from "../protocol.ts";

const JSON_TYPE = { "content-type": "application/json" };
const SERVE = { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} };

/** A promise to resolve by hand; disposing it resolves it (so a failed test cannot hang). */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open, [Symbol.dispose]: () => open() };
}

/** An app whose setup waits for `setupGate`, logging what happens in `log`. */
function gatedApp(setupGate: Promise<void>, log: string[]) {
  return new App({
    async setup() {
      log.push("setup:start");
      await setupGate;
      log.push("setup:end");
    },
    teardown() {
      log.push("teardown");
    },
  }).endpoint("/", {}, () => {
    log.push("handler");
    return { ok: true };
  });
}

function get(app: App, path: string) {
  return Promise.resolve(app.fetch(new Request(`http://rally.test${path}`)));
}

function post(app: App, path: string) {
  return Promise.resolve(
    app.fetch(
      new Request(`http://rally.test${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
    ),
  );
}

// setup and /health

Deno.test("lifecycle under app.fetch alone: the first request runs setup, /health is 503 until it ends, others wait", async () => {
  const log: string[] = [];
  using setup = gate();
  const app = gatedApp(setup.promise, log);
  const health = await get(app, "/health");
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), { detail: "App is starting" });
  assert.deepEqual(log, ["setup:start"]);
  const waiting = post(app, "/");
  await delay(50); // an absence: the request must not reach its handler while setup runs
  assert.deepEqual(log, ["setup:start"], "the request waits for setup");
  setup.open();
  const response = await within(waiting, "the waiting request");
  assert.deepEqual(await response.json(), { ok: true });
  assert.deepEqual(log, ["setup:start", "setup:end", "handler"]);
  assert.deepEqual(await (await get(app, "/health")).json(), { status: "ok", version: VERSION });
});

Deno.test("lifecycle under serve(): setup runs at once, /health is 503 until it ends, then 200", async () => {
  const log: string[] = [];
  const setup = gate();
  await using server = listen(gatedApp(setup.promise, log));
  using _setup = setup; // disposed first: the drain waits for setup to end
  await waitFor(() => log.length === 1, "setup to start before any request");
  const before = await fetch(`${server.http}/health`);
  assert.equal(before.status, 503);
  await before.body?.cancel();
  const waiting = run(server.http, { input: {} });
  setup.open();
  assert.deepEqual(await within(waiting, "the request held during setup"), { ok: true });
  const after = await fetch(`${server.http}/health`);
  assert.equal(after.status, 200);
  await after.body?.cancel();
  assert.deepEqual(log, ["setup:start", "setup:end", "handler"]);
});

Deno.test("lifecycle: a synchronous setup makes the App ready for its first request", async () => {
  let ran = 0;
  const app = new App({ setup: () => void ran++ });
  const response = await get(app, "/health");
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(ran, 1);
  await get(app, "/health").then((response) => response.body?.cancel());
  assert.equal(ran, 1, "setup runs once");
});

Deno.test("lifecycle: /openapi.json does not wait for setup", async () => {
  using setup = gate();
  const app = gatedApp(setup.promise, []);
  const response = await within(get(app, "/openapi.json"), "the document during setup");
  assert.equal(response.status, 200);
  assert.ok("/" in (await response.json()).paths);
  setup.open();
});

Deno.test("lifecycle: a failed setup answers 503 everywhere; serve()'s finished rejects with its error", async () => {
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const app = new App({ setup: () => Promise.reject(new Error("no weights")) })
      .endpoint("/", {}, () => ({}));
    const held = post(app, "/");
    const response = await within(held, "the request held during setup");
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { detail: "App setup failed" });
    const health = await get(app, "/health");
    assert.deepEqual([health.status, await health.json()], [503, { detail: "App setup failed" }]);
    assert.equal(errors.length, 1);

    const server = serve(app, SERVE);
    await assert.rejects(within(server.finished, "the server to stop by itself"), {
      message: "no weights",
    });
  } finally {
    console.error = originalError;
  }
});

// teardown and serving again

Deno.test("lifecycle: teardown runs after HTTP, SSE and realtime work in flight has drained", async () => {
  const log: string[] = [];
  const release = gate();
  let realtimeStarted = false;
  const app = new App({ teardown: () => void log.push("teardown") })
    .endpoint("/slow", {}, async () => {
      await release.promise;
      log.push("http done");
      return {};
    })
    .stream("/slow-stream", {}, async function* () {
      yield { n: 1 };
      await release.promise;
      log.push("stream done");
    })
    .realtime("/rt", {}, async (input) => {
      realtimeStarted = true;
      await release.promise;
      log.push("realtime done");
      return input;
    });
  await using server = listen(app, 5_000);
  using _release = release; // disposed first: work in flight ends before the server stops
  const http = run(server.http, { path: "/slow" });
  const outputs: unknown[] = [];
  const streamed = (async () => {
    for await (const output of stream(server.http, { path: "/slow-stream" })) outputs.push(output);
  })();
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ n: 1 });
  await waitFor(() => outputs.length === 1 && realtimeStarted, "work to be in flight");
  const shutdown = server.shutdown();
  await delay(50); // an absence: teardown must not start while work is in flight
  assert.deepEqual(log, [], "teardown waits for the work in flight");
  release.open();
  assert.deepEqual(await within(conn.receive(), "the realtime output"), { n: 1 });
  await within(Promise.all([http, streamed, shutdown]), "the drain");
  assert.equal(log.at(-1), "teardown");
  assert.deepEqual(log.slice(0, 3).sort(), ["http done", "realtime done", "stream done"]);
});

Deno.test("lifecycle: the same App can be served again after a shutdown", async () => {
  const log: string[] = [];
  const app = new App({
    setup: () => void log.push("setup"),
    teardown: () => void log.push("teardown"),
  }).endpoint("/", {}, () => ({ ok: true }));
  for (let round = 0; round < 2; round++) {
    const server = listen(app);
    assert.deepEqual(await run(server.http, { input: {} }), { ok: true });
    await within(server.shutdown(), "the server to stop");
    await within(server.finished, "finished to resolve");
  }
  assert.deepEqual(log, ["setup", "teardown", "setup", "teardown"]);
  const response = await post(app, "/");
  assert.equal(response.status, 503, "between two serve() calls the stopped App refuses work");
  await response.body?.cancel();
});

Deno.test("lifecycle: a teardown that throws rejects shutdown() and finished", async () => {
  const app = new App({
    teardown() {
      throw new Error("cannot unload");
    },
  });
  const server = listen(app);
  await assert.rejects(within(server.shutdown(), "the server to stop"), {
    message: "cannot unload",
  });
  await assert.rejects(server.finished, { message: "cannot unload" });
});

// keepAlive

Deno.test("keepAlive: serve() stops by itself after that long with no work, and runs teardown", async () => {
  let tornDown = false;
  const app = new App({ keepAlive: 0.2, teardown: () => void (tornDown = true) })
    .endpoint("/", {}, () => ({}));
  const server = listen(app);
  await run(server.http, { input: {} });
  await within(server.finished, "the idle server to stop");
  assert.ok(tornDown);
  await assert.rejects(fetch(`${server.http}/health`), TypeError, "nothing listens any more");
});

Deno.test("keepAlive: serve() keeps running while a socket is open, then stops once it closes", async () => {
  const app = new App({ keepAlive: 0.1 }).websocket("/hold", async (socket) => {
    await aborted(socket.signal);
  });
  const server = listen(app);
  const peer = await Peer.open(`${server.ws}/hold`);
  await waitFor(() => app.sessionCount === 1, "the session to start");
  let stopped = false;
  server.finished.then(() => stopped = true);
  await delay(500); // time is the behaviour under test: five keepAlive periods, a socket open
  assert.equal(stopped, false, "an open socket keeps the server up");
  const health = await fetch(`${server.http}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  await peer.close();
  await within(server.finished, "the server to stop once the socket closed");
});

Deno.test("keepAlive is checked when the App starts", () => {
  for (const keepAlive of [0, -1, NaN]) {
    assert.throws(() => serve(new App({ keepAlive }), SERVE), {
      name: "RangeError",
      message:
        `Cannot start the App: keepAlive must be a number of seconds greater than 0, received ${keepAlive}`,
    });
  }
});

// maxConcurrency

Deno.test("maxConcurrency: one handler call at a time, maxQueue waiting in order, then 503", async () => {
  const release = gate();
  const order: number[] = [];
  const app = new App({ maxConcurrency: 1, maxQueue: 2 }).endpoint("/", {}, async (input) => {
    const { n } = input as { n: number };
    order.push(n);
    if (n === 0) await release.promise;
    return { n };
  });
  await using server = listen(app);
  using _release = release;
  const call = (n: number) =>
    fetch(server.http, { method: "POST", body: JSON.stringify({ n }), headers: JSON_TYPE }).then(
      async (response) => ({
        status: response.status,
        body: await response.json(),
        retryAfter: response.headers.get("retry-after"),
      }),
    );
  const first = call(0);
  await waitFor(() => order.length === 1, "the first call");
  const queued = [call(1), call(2)];
  await waitFor(() => runnerOf(app).requestCount === 3, "two requests to wait in the queue");
  const refused = await within(call(3), "the refused request");
  assert.deepEqual(refused, {
    status: 503,
    body: { detail: "Server is busy: try again later" },
    retryAfter: "1",
  });
  assert.deepEqual(order, [0], "queued requests wait for the slot");
  release.open();
  const answers = await within(Promise.all([first, ...queued]), "the queued requests");
  assert.deepEqual(answers.map((answer) => answer.body), [{ n: 0 }, { n: 1 }, { n: 2 }]);
  assert.deepEqual(order, [0, 1, 2]);
});

Deno.test("maxConcurrency counts an SSE stream until it ends", async () => {
  const release = gate();
  const app = new App({ maxConcurrency: 1, maxQueue: 0 })
    .stream("/stream", {}, async function* () {
      yield { n: 1 };
      await release.promise;
    })
    .endpoint("/", {}, () => ({ ok: true }));
  await using server = listen(app);
  using _release = release;
  const outputs: unknown[] = [];
  const streamed = (async () => {
    for await (const output of stream(server.http, { path: "/stream" })) outputs.push(output);
  })();
  await waitFor(() => outputs.length === 1, "the stream's first output");
  const busy = await fetch(server.http, { method: "POST", body: "{}", headers: JSON_TYPE });
  assert.equal(busy.status, 503);
  await busy.body?.cancel();
  release.open();
  await within(streamed, "the stream to end");
  assert.deepEqual(await run(server.http, { input: {} }), { ok: true });
});

Deno.test("maxConcurrency and maxQueue are checked when the App starts", () => {
  const cases: [Partial<App>, string][] = [
    [{ maxConcurrency: 0 }, "maxConcurrency must be a whole number of at least 1, received 0"],
    [{ maxConcurrency: 1.5 }, "maxConcurrency must be a whole number of at least 1, received 1.5"],
    [{ maxQueue: -1 }, "maxQueue must be a whole number of at least 0, received -1"],
    [{ maxQueue: Infinity }, "maxQueue must be a whole number of at least 0, received Infinity"],
  ];
  for (const [options, message] of cases) {
    const app = new App(options as ConstructorParameters<typeof App>[0]);
    assert.throws(() => app.fetch(new Request("http://rally.test/health")), {
      name: "RangeError",
      message: `Cannot start the App: ${message}`,
    });
  }
});
