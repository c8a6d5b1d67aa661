import assert from "node:assert/strict";
import { App, type AppOptions, type LogRecord } from "../server/mod.ts";
import { fetchToken, run, wsConnect } from "../client/mod.ts";
import type { ErrorFrame } from "../protocol.ts";
import { spawnDeno } from "./_helpers.ts";
import { listen, Peer, waitFor, within } from "./_realtime_helpers.ts";

const SECRET = "a test secret that is long enough for HS256";
const KEY = "metrics-test-key";
const STARTUP_MS = 30_000;

function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.fetch(
    new Request(`http://rally.test${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    }),
  );
}

/**
 * An App whose realtime handler holds its first input until `release()`, so that a test can
 * make the buffer drop one (buffering 1).
 */
function gatedApp(options: AppOptions) {
  const started = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let calls = 0;
  const app = new App({ name: "observed", ...options })
    .endpoint("/", {}, (input, ctx) => ({ got: input, requestId: ctx.requestId }))
    .endpoint("/throws", {}, () => {
      throw new Error("boom");
    })
    .realtime("/realtime", { buffering: 1 }, async (input) => {
      if (calls++ === 0) {
        started.resolve();
        await gate.promise;
      }
      return input;
    })
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
  return { app, started: started.promise, release: () => gate.resolve() };
}

/**
 * Drive a realtime session through one invalid input, one handled input that holds the
 * handler (for at least `holdMs`), and two more of which buffering drops the first; then close
 * it with 1000.
 */
async function traffic(url: string, started: Promise<void>, release: () => void, holdMs = 0) {
  await using peer = await Peer.open(url);
  const dropped = new Promise<void>((resolve) => {
    peer.socket.addEventListener("message", (event) => {
      if (typeof event.data === "string" && event.data.includes('"action":"dropped"')) resolve();
    });
  });
  peer.socket.send("not json {");
  assert.equal((await peer.control()).error, "INVALID_INPUT");
  peer.send({ n: 1 });
  await within(started, "the handler to hold the first input");
  const heldFrom = performance.now();
  peer.send({ n: 2 });
  peer.send({ n: 3 }); // drops { n: 2 }: buffering 1, the latest wins
  await within(dropped, "the server to drop { n: 2 } for { n: 3 }"); // it has taken both in
  // The handler's duration is what the metrics test measures: hold it on the clock (bounded).
  await waitFor(() => performance.now() - heldFrom >= holdMs, `a ${holdMs} ms handler call`);
  release();
  assert.deepEqual(await peer.output(), { n: 1 });
  assert.deepEqual(await peer.output(), { n: 3 });
  peer.socket.close(1000);
  assert.equal((await peer.closeEvent()).code, 1000);
}

// Logs

Deno.test("log writes one record per HTTP request: id, method, path, redacted query, status, duration", async () => {
  const records: LogRecord[] = [];
  const { app } = gatedApp({ log: { sink: (record) => records.push(record) } });
  const response = await post(app, "/?fal_jwt_token=s3cr3t&x=1&api_key=k3y", { a: 1 }, {
    "x-request-id": "req-1",
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(records.length, 1);
  const [record] = records;
  assert.equal(record.msg, "request");
  assert.equal(record.level, "info");
  assert.equal(record.app, "observed");
  assert.equal(record.requestId, "req-1");
  assert.equal(record.method, "POST");
  assert.equal(record.path, "/");
  assert.equal(record.query, "?fal_jwt_token=[REDACTED]&x=1&api_key=[REDACTED]");
  assert.equal(record.status, 200);
  assert.ok(typeof record.durationMs === "number" && record.durationMs >= 0);
  assert.ok(!Number.isNaN(Date.parse(record.time)));
  assert.ok(!JSON.stringify(records).includes("s3cr3t"));
  assert.ok(!JSON.stringify(records).includes("k3y"));
});

Deno.test("log gives a request without x-request-id the id its handler sees; 4xx warn, 5xx error", async () => {
  const records: LogRecord[] = [];
  const { app } = gatedApp({ log: { sink: (record) => records.push(record) }, onError() {} });
  const response = await post(app, "/", 1);
  const { requestId } = await response.json();
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  assert.equal(records[0].requestId, requestId);
  (await app.fetch(new Request("http://rally.test/nope"))).body?.cancel();
  (await post(app, "/throws", 1)).body?.cancel();
  assert.deepEqual(records.slice(1).map((record) => [record.status, record.level]), [
    [404, "warn"],
    [500, "error"],
  ]);
});

Deno.test("log level warn keeps 4xx and 5xx only; off and a throwing sink log nothing", async () => {
  const records: LogRecord[] = [];
  const { app } = gatedApp({
    log: { level: "warn", sink: (record) => records.push(record) },
    onError() {},
  });
  (await post(app, "/", 1)).body?.cancel();
  (await post(app, "/throws", 1)).body?.cancel();
  assert.deepEqual(records.map((record) => record.status), [500]);

  const off = gatedApp({ log: { level: "off", sink: (record) => records.push(record) } }).app;
  (await post(off, "/", 1)).body?.cancel();
  assert.equal(records.length, 1);

  const failing = gatedApp({
    log: {
      sink: () => {
        throw new Error("disk full");
      },
    },
  }).app;
  const response = await post(failing, "/", 1);
  assert.equal(response.status, 200); // the record is lost, not the request
  await response.body?.cancel();
});

Deno.test("log records each session's open and close with counts, drops, errors and close code, and no token", async () => {
  const records: LogRecord[] = [];
  const { app, started, release } = gatedApp({
    auth: { keys: [KEY], secret: SECRET },
    log: { sink: (record) => records.push(record) },
  });
  await using server = listen(app);
  const token = await fetchToken(server.http, { key: KEY, app: "observed" });
  await traffic(`${server.ws}/realtime?fal_jwt_token=${token}`, started, release, 50);
  {
    await using ws = await wsConnect(server.http, { path: "/ws", key: KEY });
    ws.send("a");
    ws.send("b");
    await ws.receive();
    await ws.receive();
  }
  await waitFor(
    () => records.filter((record) => record.msg === "session close").length === 2,
    "both sessions' close records",
  );
  const sessions = records.filter((record) => record.msg !== "request");
  const [open, close, wsOpen, wsClose] = sessions;
  assert.equal(open.msg, "session open");
  assert.equal(open.kind, "realtime");
  assert.equal(open.path, "/realtime");
  assert.equal(open.query, "?fal_jwt_token=[REDACTED]");
  assert.equal(close.msg, "session close");
  assert.equal(close.requestId, open.requestId);
  assert.equal(close.code, 1000);
  assert.equal(close.level, "info");
  assert.equal(close.messagesIn, 4);
  assert.equal(close.messagesOut, 2);
  assert.equal(close.dropped, 1);
  assert.equal(close.rateLimited, 0);
  assert.deepEqual(close.errors, { INVALID_INPUT: 1 });
  assert.equal(close.handlerCalls, 2);
  assert.ok(close.handlerMs! >= 40, `the held call took its time: ${close.handlerMs} ms`);
  assert.ok(close.durationMs! >= close.handlerMs!);
  assert.deepEqual(
    [wsOpen.msg, wsOpen.kind, wsClose.msg, wsClose.code, wsClose.messagesIn, wsClose.messagesOut],
    ["session open", "websocket", "session close", 1000, 2, 2],
  );
  assert.ok(!JSON.stringify(records).includes(token), "the token never reaches the log");
  assert.ok(!JSON.stringify(records).includes(KEY), "nor the key");
});

Deno.test("log marks a session closed for its rate with 1008 at level warn", async () => {
  const records: LogRecord[] = [];
  const app = new App({
    rateLimit: { messages: 1, graceMs: 0 },
    log: { sink: (record) => records.push(record) },
  }).realtime("/realtime", {}, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/realtime`);
  for (let i = 0; i < 3; i++) peer.send({ i });
  assert.equal((await peer.closeEvent()).code, 1008);
  await waitFor(() => records.length === 2, "the close record");
  const close = records[1];
  assert.equal(close.code, 1008);
  assert.equal(close.level, "warn");
  assert.equal(close.rateLimited, 2);
  assert.deepEqual(close.errors, { RATE_LIMITED: 2 }); // the warning, then the closing frame
});

Deno.test("rally serve logs JSON lines by default and RALLY_LOG=off silences them", async () => {
  const envs: Record<string, string>[] = [{}, { RALLY_LOG: "off" }];
  for (const env of envs) {
    const child = spawnDeno(
      [
        "run",
        "-A",
        "cli.ts",
        "serve",
        "examples/realtime_app.ts",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
      ],
      env,
    );
    try {
      const [, url] = await child.waitFor(/rally: serving \S+ on (http:\/\/\S+)\//, STARTUP_MS);
      const output = await run(`${url}?fal_jwt_token=s3cr3t`, { input: { prompt: "hi" } });
      assert.deepEqual(output, { output: "hi" });
      if ("RALLY_LOG" in env) {
        await child.stop("SIGTERM"); // everything it would ever print is printed
        assert.doesNotMatch(child.output(), /"msg":"request"/);
      } else {
        const [line] = await child.waitFor(/\{"time".*"msg":"request".*\}/, STARTUP_MS);
        const record = JSON.parse(line);
        assert.equal(record.app, "realtime-app");
        assert.equal(record.status, 200);
        assert.equal(record.query, "?fal_jwt_token=[REDACTED]");
        assert.ok(!child.output().includes("s3cr3t"));
      }
    } finally {
      await child.stop("SIGTERM");
    }
  }
});

// Metrics

/** Scrape `/metrics` into a map of `name{labels}` → value. */
async function scrape(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/metrics`, { headers });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** A series' value, 0 when absent. */
function value(series: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  const text = Object.entries({ ...labels, app: "observed" })
    .map(([key, label]) => `${key}="${label}"`)
    .join(",");
  return series.get(`${name}{${text}}`) ?? 0;
}

Deno.test("/metrics is not served by default", async () => {
  const response = await gatedApp({}).app.fetch(new Request("http://rally.test/metrics"));
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("/metrics values move with traffic: sessions, messages, drops, errors, latency, HTTP by status", async () => {
  const { app, started, release } = gatedApp({ metrics: true });
  await using server = listen(app);
  const before = await scrape(server.http);
  assert.equal(value(before, "rally_sessions_open", { kind: "realtime" }), 0);
  assert.equal(value(before, "rally_handler_duration_seconds_count"), 0);

  assert.deepEqual((await run(server.http, { input: 1 })).got, 1);
  assert.deepEqual((await run(server.http, { input: 2 })).got, 2);
  const bad = await fetch(`${server.http}/`, {
    method: "POST",
    body: "{",
    headers: { "content-type": "application/json" },
  });
  assert.equal(bad.status, 422);
  await bad.body?.cancel();
  {
    await using peer = await Peer.open(`${server.ws}/realtime`);
    const during = await scrape(server.http);
    assert.equal(value(during, "rally_sessions_open", { kind: "realtime" }), 1);
    await peer.close();
  }
  await traffic(`${server.ws}/realtime`, started, release, 50);
  {
    await using ws = await wsConnect(server.http, { path: "/ws" });
    ws.send("ping");
    assert.equal(await ws.receive(), "ping");
  }
  await waitFor(() => app.sessionCount === 0, "the sessions to close");
  let after = new Map<string, number>();
  let scrapes = 0;
  await waitFor(async () => {
    after = await scrape(server.http);
    scrapes++;
    return value(after, "rally_sessions_open", { kind: "websocket" }) === 0;
  }, "the websocket session to close");
  const moved = (name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels);
  assert.equal(value(after, "rally_sessions_open", { kind: "realtime" }), 0);
  assert.equal(value(after, "rally_sessions_open", { kind: "websocket" }), 0);
  assert.equal(moved("rally_sessions_total", { kind: "realtime" }), 2);
  assert.equal(moved("rally_sessions_total", { kind: "websocket" }), 1);
  assert.equal(moved("rally_messages_received_total", { kind: "realtime" }), 4);
  assert.equal(moved("rally_messages_sent_total", { kind: "realtime" }), 2);
  assert.equal(moved("rally_messages_received_total", { kind: "websocket" }), 1);
  assert.equal(moved("rally_messages_sent_total", { kind: "websocket" }), 1);
  assert.equal(moved("rally_inputs_dropped_total", { reason: "buffering" }), 1);
  assert.equal(moved("rally_errors_total", { code: "INVALID_INPUT" }), 1);
  assert.equal(moved("rally_handler_duration_seconds_count"), 2);
  assert.ok(moved("rally_handler_duration_seconds_sum") >= 0.04, "the held call took its time");
  assert.equal(moved("rally_handler_duration_seconds_bucket", { le: "+Inf" }), 2);
  assert.ok(
    value(after, "rally_handler_duration_seconds_bucket", { le: "0.025" }) <= 1,
    "the held call is in a slower bucket",
  );
  // The scrapes before this one count as 200s too: before, during and the earlier polls.
  assert.equal(moved("rally_http_requests_total", { status: "200" }), 2 + 2 + scrapes - 1);
  assert.equal(moved("rally_http_requests_total", { status: "422" }), 1);
  assert.ok(moved("rally_http_request_duration_seconds_count") >= 5);
});

Deno.test("/metrics counts rate-limited inputs and RATE_LIMITED frames", async () => {
  const app = new App({
    name: "observed",
    metrics: true,
    rateLimit: { messages: 1, graceMs: 60_000 },
  }).realtime("/realtime", {}, (input) => input);
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/realtime`);
  for (let i = 0; i < 4; i++) peer.send({ i });
  const frames = [await peer.next(), await peer.next()];
  assert.ok(
    frames.some((frame) =>
      typeof frame === "string" &&
      (JSON.parse(frame) as ErrorFrame).error === "RATE_LIMITED"
    ),
  );
  let series = await scrape(server.http);
  await waitFor(async () => {
    series = await scrape(server.http);
    return value(series, "rally_inputs_dropped_total", { reason: "rate_limit" }) >= 3;
  }, "three rate-limited inputs to be counted");
  assert.equal(value(series, "rally_inputs_dropped_total", { reason: "rate_limit" }), 3);
  assert.equal(value(series, "rally_errors_total", { code: "RATE_LIMITED" }), 1);
});

Deno.test("/metrics sits behind auth when auth is on", async () => {
  const { app } = gatedApp({ metrics: true, auth: { keys: [KEY], secret: SECRET } });
  await using server = listen(app);
  const refused = await fetch(`${server.http}/metrics`);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const series = await scrape(server.http, { authorization: `Key ${KEY}` });
  assert.equal(value(series, "rally_http_requests_total", { status: "401" }), 1);
});

Deno.test("two Apps in one process keep their own metrics", async () => {
  const first = gatedApp({ metrics: true });
  const second = gatedApp({ metrics: true });
  await using one = listen(first.app);
  await using two = listen(second.app);
  await run(one.http, { input: 1 });
  await run(one.http, { input: 2 });
  await run(two.http, { input: 3 });
  const a = await scrape(one.http);
  const b = await scrape(two.http);
  assert.equal(value(a, "rally_http_requests_total", { status: "200" }), 2);
  assert.equal(value(b, "rally_http_requests_total", { status: "200" }), 1);
});

Deno.test("a route at /metrics is refused when metrics are on, and ordinary when off", () => {
  const start = (metrics: boolean) =>
    new App({ metrics }).endpoint("/metrics", {}, () => 1).fetch(
      new Request("http://rally.test/health"),
    );
  assert.throws(() => start(true), { name: "TypeError", message: /\/metrics is rally's own/ });
  start(false);
});
