/**
 * Failed connections and requests name their cause (issue 16, items 4 to 6): a wrong path, an
 * HTTP endpoint's path, a server that is not running, a refused handshake; a POST to a realtime
 * path answers as helpfully as the GET's 426.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { connect, realtime, RealtimeError, run, stream, wsConnect } from "../client/mod.ts";
import { App } from "../server/mod.ts";
import { whyNotConnected } from "../client/unreachable.ts";
import { freePort } from "./_helpers.ts";
import { listen, within } from "./_realtime_helpers.ts";

const Input = z.object({ prompt: z.string() });

function app(options: ConstructorParameters<typeof App>[0] = {}): App {
  return new App(options)
    .endpoint("/", { input: Input }, (input) => ({ output: input.prompt }))
    .realtime("/realtime", { input: Input }, (input) => ({ output: input.prompt }))
    .websocket("/echo", async (socket) => socket.send(await socket.receiveText()));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await within(promise.then(() => undefined, (error) => error), "the refusal");
  assert.ok(error instanceof RealtimeError, String(error));
  assert.equal(error.code, "CONNECTION_CLOSED");
  return error.reason;
}

Deno.test("realtime() to a path with no route names it: no realtime endpoint (HTTP 404)", async () => {
  await using server = listen(app());
  const reason = await refusal(realtime(server.http, { path: "/nope" }));
  assert.equal(
    reason,
    `could not connect to ${server.ws}/nope: no realtime endpoint at /nope (HTTP 404)`,
  );
});

Deno.test("realtime() to an HTTP endpoint's path says it is an HTTP endpoint", async () => {
  await using server = listen(app());
  const reason = await refusal(realtime(server.http, { path: "/" }));
  assert.match(reason, /: \/ is an HTTP endpoint \(it takes POST\), not a realtime endpoint/);
});

Deno.test("wsConnect() and realtime() to a stopped server: connection refused, is it running?", async () => {
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  assert.match(
    await refusal(wsConnect(origin, { path: "/echo" })),
    new RegExp(`connection refused: is the server running at ${origin}\\?$`),
  );
  assert.match(
    await refusal(realtime(origin)),
    new RegExp(`^could not connect to ws://127.0.0.1:${port}/realtime: connection refused`),
  );
});

Deno.test("a refused handshake names its 401 and the server's detail", async () => {
  const secret = "a test secret that is long enough for HS256";
  await using server = listen(app({ auth: { keys: ["right"], secret } }));
  const reason = await refusal(realtime(server.http, { key: "wrong" }));
  assert.match(reason, /refused by the server's auth \(HTTP 401: Invalid key\): pass a valid key/);
});

Deno.test("the follow-up request tells the cause when the socket says nothing (browsers)", async () => {
  await using server = listen(app());
  const at = (path: string) => new URL(`${server.ws}${path}`);
  // No error message at all, as in a browser: the follow-up GET alone decides.
  assert.equal(
    await whyNotConnected(at("/nope"), "realtime", {}),
    "no realtime endpoint at /nope (HTTP 404)",
  );
  assert.match(await whyNotConnected(at("/"), "realtime", {}), /^\/ is an HTTP endpoint/);
  assert.equal(
    await whyNotConnected(at("/realtime"), "realtime", {}),
    "the server refused the WebSocket handshake at /realtime",
  );
  const stopped = new URL(`ws://127.0.0.1:${freePort()}/realtime`);
  assert.match(await whyNotConnected(stopped, "realtime", {}), /^no answer from http:\/\/127/);
});

Deno.test("connect() gives up after 3 failures in a row, naming the cause", async () => {
  await using server = listen(app());
  const errors: RealtimeError[] = [];
  const gaveUp = Promise.withResolvers<void>();
  const live = connect(server.http, {
    path: "/nope",
    reconnect: { baseMs: 1, capMs: 5 },
    onResult: () => {},
    onError: (error) => {
      errors.push(error);
      gaveUp.resolve();
    },
  });
  try {
    await within(gaveUp.promise, "connect() to give up");
  } finally {
    live.close();
  }
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].reason,
    /^could not connect 3 times in a row \(could not connect to ws:.*\/nope: no realtime endpoint at \/nope \(HTTP 404\)\)$/,
  );
});

Deno.test("run() and stream() against a stopped server name the URL and the cause", async () => {
  const origin = `http://127.0.0.1:${freePort()}`;
  const error = await run(origin, { path: "/x", input: {} }).catch((error) => error);
  assert.ok(error instanceof TypeError);
  assert.equal(
    error.message,
    `Cannot reach ${origin}/x: connection refused: is the server running at ${origin}?`,
  );
  assert.ok(error.cause instanceof TypeError); // fetch's own error
  await assert.rejects(
    (async () => {
      for await (const _ of stream(origin, { path: "/s" })) { /* none */ }
    })(),
    { name: "TypeError", message: new RegExp(`^Cannot reach ${origin}/s: connection refused`) },
  );
});

Deno.test("a POST to a WebSocket path answers 405 as helpfully as the GET's 426", async () => {
  const served = app().webrtc("/rtc", { endpoint: "/realtime" });
  for (
    const [path, detail] of [
      [
        "/realtime",
        'realtime endpoint (a WebSocket): connect with GET and Upgrade: websocket, e.g. realtime(url, { path: "/realtime" })',
      ],
      [
        "/echo",
        'raw WebSocket endpoint (a WebSocket): connect with GET and Upgrade: websocket, e.g. wsConnect(url, { path: "/echo" })',
      ],
      ["/rtc", "WebRTC signaling endpoint"],
    ]
  ) {
    const response = await served.fetch(new Request(`http://localhost${path}`, { method: "POST" }));
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "GET");
    const body = await response.json();
    assert.ok(body.detail.startsWith(`${path} is a ${detail}`), body.detail);
  }
  const get = await served.fetch(new Request("http://localhost/realtime"));
  assert.equal(get.status, 426);
  await get.body?.cancel();
});

Deno.test("connect() closed while its handshake fails stops there: no retry, no error, nothing left running", async () => {
  await using server = listen(app());
  const errors: RealtimeError[] = [];
  const live = connect(server.http, {
    path: "/nope",
    reconnect: { baseMs: 1, capMs: 5 },
    onResult: () => {},
    onError: (error) => errors.push(error),
  });
  live.close(); // the handshake and the follow-up request are aborted; sanitizers see no leak
  // A second connection on the same path fails as usual: the first left nothing behind.
  const reason = await refusal(realtime(server.http, { path: "/nope" }));
  assert.match(reason, /no realtime endpoint at \/nope/);
  assert.deepEqual(errors, []);
});
