import assert from "node:assert/strict";
import { App, type AppOptions } from "../server/mod.ts";
import { RateLimiter } from "../server/middleware/rate_limit.ts";
import { realtime, RealtimeError } from "../client/mod.ts";
import type { ErrorFrame } from "../protocol.ts";
import { handshake } from "./_handshake.ts";
import { codec, listen, Peer, waitFor, within } from "./_realtime_helpers.ts";

// HTTP bodies: 413 while reading

Deno.test("a chunked body over maxMessageBytes gets 413 with the body read just past the limit", async () => {
  const LIMIT = 64 * 1024;
  const CHUNK = 4096;
  const app = new App({ maxMessageBytes: LIMIT }).endpoint("/", {}, () => ({ ok: true }));
  let pulled = 0;
  let cancelled = false;
  // An endless body without Content-Length, handed out only as the server reads it.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const request = new Request("http://rally.test/", {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  assert.equal(request.headers.get("content-length"), null);
  const response = await within(Promise.resolve(app.fetch(request)), "the 413");
  assert.equal(response.status, 413);
  assert.deepEqual(await response.json(), { detail: `Request body is larger than ${LIMIT} bytes` });
  assert.ok(pulled > LIMIT, `read past the limit: ${pulled}`);
  assert.ok(pulled <= LIMIT + 2 * CHUNK, `pulled ${pulled} bytes for a limit of ${LIMIT}`);
  assert.ok(cancelled, "the server stopped reading the body");
});

Deno.test("a real server refuses a chunked body over the limit having pulled about the limit", async () => {
  const LIMIT = 1024 * 1024;
  const app = new App({ maxMessageBytes: LIMIT }).endpoint("/", {}, () => ({ ok: true }));
  // A real HTTP server in front of app.fetch that counts the body bytes the App pulls.
  let pulled = 0;
  let largestChunk = 0;
  let declared: string | null = "not seen";
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    declared = request.headers.get("content-length");
    const reader = request.body!.getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        pulled += value.length;
        largestChunk = Math.max(largestChunk, value.length);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
    const { method, headers, url } = request;
    return app.fetch(new Request(url, { method, headers, body: counted }));
  });
  try {
    // 8 MiB sent in 16 KiB chunks, chunked (a stream has no Content-Length).
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8 * LIMIT) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    const response = await within(
      fetch(`http://127.0.0.1:${server.addr.port}/`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      }),
      "the 413",
    );
    assert.equal(response.status, 413);
    await response.body?.cancel();
    assert.equal(declared, null, "no Content-Length reached the server");
    assert.ok(pulled > LIMIT, `read past the limit: ${pulled}`);
    assert.ok(
      pulled <= LIMIT + largestChunk,
      `pulled ${pulled} bytes for a limit of ${LIMIT} (chunks up to ${largestChunk})`,
    );
  } finally {
    await server.shutdown();
  }
});

// maxSessions

function sessionsApp(options: AppOptions = {}): App {
  return new App(options)
    .endpoint("/", {}, () => ({ ok: true }))
    .realtime("/realtime", {}, (input) => input)
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
}

Deno.test("maxSessions counts realtime and raw sessions and answers 503 at the upgrade past it", async () => {
  const app = sessionsApp({ maxSessions: 2 });
  await using server = listen(app);
  const port = server.addr.port;
  const first = await Peer.open(`${server.ws}/realtime`);
  await using second = await Peer.open(`${server.ws}/ws`);
  assert.equal(app.sessionCount, 2);
  for (const path of ["/realtime", "/ws"]) {
    const refused = await handshake(port, path);
    assert.equal(refused.status, 503, path);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.deepEqual(refused.body, { detail: "Too many open sessions: try again later" });
  }
  // HTTP is not counted.
  const response = await fetch(`${server.http}/`, { method: "POST" });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  // The open sessions still work.
  first.send({ n: 1 });
  assert.deepEqual(await first.output(), { n: 1 });
  await first.close();
  await waitFor(() => app.sessionCount === 1, "the server to see the close");
  assert.equal((await handshake(port, "/realtime")).status, 101);
  second.socket.send("still here");
  assert.equal(await second.next(), "still here");
});

Deno.test("maxSessions must be a whole number of at least 1", () => {
  for (const maxSessions of [0, 1.5, -1, NaN]) {
    assert.throws(
      () => sessionsApp({ maxSessions }).fetch(new Request("http://rally.test/health")),
      {
        name: "RangeError",
        message:
          /^Cannot start the App: maxSessions must be a whole number of at least 1, received/,
      },
      String(maxSessions),
    );
  }
});

// Rate limit

/**
 * Send `input` now and every `ms` after, while the socket is open, until a closing error frame
 * (`"closing":true`) says the server closes: as a client should (a client still sending when the
 * server closes can lose the 1008 to a connection reset, see docs/protocol.md).
 */
function keepSending(peer: Peer, input: unknown, ms: number): () => void {
  let closing = false;
  peer.socket.addEventListener("message", (event) => {
    if (typeof event.data === "string" && event.data.includes('"closing":true')) closing = true;
  });
  const send = () => {
    if (!closing && peer.socket.readyState === WebSocket.OPEN) peer.send(input);
  };
  send();
  const timer = setInterval(send, ms);
  return () => clearInterval(timer);
}

Deno.test("a connection over its message rate gets RATE_LIMITED (retryable) once, then a closing RATE_LIMITED and close 1008 if it goes on", async () => {
  let handled = 0;
  const app = new App({ rateLimit: { messages: 5, graceMs: 200 } }).realtime("/realtime", {}, (
    input,
  ) => {
    handled++;
    return input;
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/realtime`);
  for (let i = 0; i < 20; i++) peer.send({ i });
  const stop = keepSending(peer, { more: true }, 10); // 100/s against 5/s
  let frames: unknown[];
  try {
    frames = await peer.rest();
  } finally {
    stop();
  }
  const close = await peer.closeEvent();
  assert.equal(close.code, 1008);
  assert.equal(close.reason, "rate limit exceeded");
  const controls = frames.filter((frame): frame is string => typeof frame === "string")
    .map((text) => JSON.parse(text) as ErrorFrame);
  assert.deepEqual(controls.map((frame) => frame.error), ["RATE_LIMITED", "RATE_LIMITED"]);
  assert.equal(controls[0].retryable, true);
  assert.equal(controls[0].closing, undefined, "the warning leaves the session open");
  assert.equal(controls[1].closing, true, "the last frame says the session is closed");
  assert.match(controls[0].reason, /^over the rate limit of 5 messages\/s/);
  const outputs = frames.filter((frame) => typeof frame !== "string");
  assert.ok(outputs.length >= 5, `the burst was handled: ${outputs.length}`);
  assert.ok(handled < 20, `refused inputs were never handled: ${handled} handled`);
  assert.deepEqual(outputs.slice(0, 5), [0, 1, 2, 3, 4].map((i) => ({ i })));
});

Deno.test("a connection over its byte rate gets RATE_LIMITED and stays open within the grace", async () => {
  const app = new App({ rateLimit: { bytes: 10_000, graceMs: 60_000 } }).realtime(
    "/realtime",
    {},
    (input: unknown) => ({ size: (input as { pad: string }).pad.length }),
  );
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/realtime`);
  const pad = "x".repeat(6_000);
  for (let i = 0; i < 3; i++) peer.send({ pad }); // 18 KB against a 10 KB bucket
  const frames = [await peer.next(), await peer.next(), await peer.next()];
  const texts = frames.filter((frame): frame is string => typeof frame === "string");
  assert.equal(texts.length, 1);
  const warning = JSON.parse(texts[0]) as ErrorFrame;
  assert.equal(warning.error, "RATE_LIMITED");
  assert.match(warning.reason, /10000 bytes\/s/);
  const outputs = frames.filter((frame) => typeof frame !== "string").map((frame) =>
    codec.decode(frame as ArrayBuffer)
  );
  assert.deepEqual(outputs, [{ size: 6_000 }, { size: 6_000 }]);
  assert.equal(peer.socket.readyState, WebSocket.OPEN);
});

Deno.test("each connection has its own rate limit", async () => {
  const app = new App({ rateLimit: { messages: 3, graceMs: 0 } }).realtime(
    "/realtime",
    {},
    (input) => input,
  );
  await using server = listen(app);
  await using a = await Peer.open(`${server.ws}/realtime`);
  await using b = await Peer.open(`${server.ws}/realtime`);
  for (let i = 0; i < 3; i++) a.send({ a: i });
  for (let i = 0; i < 3; i++) b.send({ b: i });
  for (let i = 0; i < 3; i++) assert.deepEqual(await a.output(), { a: i });
  for (let i = 0; i < 3; i++) assert.deepEqual(await b.output(), { b: i });
});

Deno.test("rally's client sees RATE_LIMITED as a retryable RealtimeError, then CONNECTION_CLOSED", async () => {
  const app = new App({ rateLimit: { messages: 2, graceMs: 0 } }).realtime(
    "/realtime",
    {},
    (input) => input,
  );
  await using server = listen(app);
  await using conn = await realtime<{ i: number }, { i: number }>(server.http);
  for (let i = 0; i < 4; i++) conn.send({ i });
  const errors: RealtimeError[] = [];
  for (let i = 0; i < 6 && errors.length < 2; i++) {
    try {
      await within(conn.receive(), "a result or an error");
    } catch (error) {
      assert.ok(error instanceof RealtimeError, String(error));
      errors.push(error);
    }
  }
  // graceMs 0: the 3rd input warns, the 4th closes.
  assert.deepEqual(errors.map((error) => error.code), ["RATE_LIMITED", "CONNECTION_CLOSED"]);
  assert.equal(errors[0].retryable, true);
});

Deno.test("RateLimiter: buckets of burst × rate that refill with time", () => {
  const limiter = new RateLimiter({ messages: 10, burst: 0.5 });
  let now = 1_000;
  for (let i = 0; i < 5; i++) assert.ok(limiter.take(1, now), `burst ${i}`);
  assert.equal(limiter.take(1, now), false);
  now += 100; // 10/s: one more
  assert.ok(limiter.take(1, now));
  assert.equal(limiter.take(1, now), false);
  now += 60_000; // refills only up to the burst
  for (let i = 0; i < 5; i++) assert.ok(limiter.take(1, now));
  assert.equal(limiter.take(1, now), false);
});

Deno.test("RateLimiter: the bytes bucket lets a large input through when full, then owes", () => {
  const limiter = new RateLimiter({ bytes: 1_000 });
  let now = 0;
  assert.ok(limiter.take(5_000, now)); // larger than the bucket, passes when it is full
  now += 3_000;
  assert.equal(limiter.take(1, now), false); // 4 s of debt, 3 s repaid
  now += 1_001;
  assert.ok(limiter.take(1, now));
});

Deno.test("RateLimiter: warn, drop within the grace, close after it; forgiven after a quiet grace", () => {
  const limiter = new RateLimiter({ messages: 1, graceMs: 1_000 });
  assert.equal(limiter.refuse(0), "warn");
  assert.equal(limiter.refuse(500), "drop");
  assert.equal(limiter.refuse(999), "drop");
  assert.equal(limiter.refuse(1_000), "close");
  const calm = new RateLimiter({ messages: 1, graceMs: 1_000 });
  assert.equal(calm.refuse(0), "warn");
  assert.equal(calm.refuse(200), "drop");
  assert.equal(calm.refuse(1_201), "warn"); // a grace without refusals: warned afresh
  assert.equal(calm.refuse(1_500), "drop");
  assert.equal(calm.refuse(2_201), "close");
  // graceMs 0 closes at the next refusal; forgiveness still takes a quiet second.
  const strict = new RateLimiter({ messages: 1, graceMs: 0 });
  assert.equal(strict.refuse(0), "warn");
  assert.equal(strict.refuse(900), "close");
  const later = new RateLimiter({ messages: 1, graceMs: 0 });
  assert.equal(later.refuse(0), "warn");
  assert.equal(later.refuse(1_001), "warn");
});

Deno.test("rateLimit is checked when the App starts", () => {
  const start = (rateLimit: AppOptions["rateLimit"]) =>
    new App({ rateLimit }).fetch(new Request("http://rally.test/health"));
  assert.throws(() => start({}), { name: "RangeError", message: /needs messages or bytes/ });
  for (const messages of [0, -1, Infinity, NaN]) {
    assert.throws(() => start({ messages }), RangeError, String(messages));
  }
  assert.throws(() => start({ bytes: 100, burst: 0 }), RangeError);
  assert.throws(() => start({ bytes: 100, graceMs: -1 }), RangeError);
  start({ messages: 30, bytes: 1 << 20, burst: 2, graceMs: 0 });
});
