import assert from "node:assert/strict";
import { z } from "zod";
import { Codec } from "../codec.ts";
import { App, type AppOptions, type Context, serve } from "../server/mod.ts";
import { HttpError, run } from "../client/mod.ts";
import { within } from "./_realtime_helpers.ts";
import { VERSION } from "../protocol.ts";

const codec = new Codec();
const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string() });
const SERVE = { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} };

/** The app most tests talk to; handler errors land in `errors`. */
function echoApp(errors: unknown[] = [], options: AppOptions = {}): App {
  return new App({ onError: (error) => errors.push(error), ...options })
    .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
    .endpoint("/raw", {}, (input) => ({ got: input }))
    .endpoint("/small", { maxMessageBytes: 1024 }, (input) => ({ got: input }))
    .endpoint("/throws", {}, () => {
      throw new Error("secret detail");
    })
    .endpoint("/rejects", {}, () => Promise.reject(new Error("async secret")))
    .endpoint(
      "/bad-output",
      { output: Output },
      () => ({ output: 42 }) as unknown as { output: string },
    )
    .realtime("/realtime", {}, (input) => input)
    .websocket("/ws", () => {});
}

function post(app: App, path: string, body?: BodyInit, headers: HeadersInit = {}) {
  return app.fetch(new Request(`http://rally.test${path}`, { method: "POST", body, headers }));
}

function postJson(app: App, path: string, value: unknown, headers: Record<string, string> = {}) {
  return post(app, path, JSON.stringify(value), { "content-type": "application/json", ...headers });
}

// Bodies and responses

Deno.test("http answers a JSON body with a JSON output", async () => {
  const response = await postJson(echoApp(), "/", { prompt: "hi" });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^application\/json/);
  assert.deepEqual(await response.json(), { output: "hi" });
});

Deno.test("http accepts a JSON content type with parameters", async () => {
  const response = await post(echoApp(), "/", '{"prompt":"é"}', {
    "content-type": "Application/JSON; charset=utf-8",
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { output: "é" });
});

Deno.test("http decodes an application/msgpack body and answers msgpack when Accept asks", async () => {
  const image = new Uint8Array([0, 1, 2, 255]);
  const response = await post(echoApp(), "/raw", codec.encode({ prompt: "hi", image }), {
    "content-type": "application/msgpack",
    accept: "application/msgpack",
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/msgpack");
  const body = codec.decode(await response.arrayBuffer()) as { got: { image: Uint8Array } };
  assert.ok(body.got.image instanceof Uint8Array);
  assert.deepEqual(body, { got: { prompt: "hi", image } });
});

Deno.test("http accepts application/x-msgpack for the body and in Accept", async () => {
  const response = await post(echoApp(), "/", codec.encode({ prompt: "x" }), {
    "content-type": "application/x-msgpack",
    accept: "application/x-msgpack",
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/msgpack");
  assert.deepEqual(codec.decode(await response.arrayBuffer()), { output: "x" });
});

Deno.test("http reads the media type in Accept without regard to case", async () => {
  const response = await postJson(echoApp(), "/", { prompt: "c" }, {
    accept: "Application/MsgPack",
  });
  assert.equal(response.headers.get("content-type"), "application/msgpack");
  assert.deepEqual(codec.decode(await response.arrayBuffer()), { output: "c" });
});

Deno.test("http answers JSON to a msgpack body when Accept does not ask for msgpack", async () => {
  const response = await post(echoApp(), "/", codec.encode({ prompt: "m" }), {
    "content-type": "application/msgpack",
  });
  assert.match(response.headers.get("content-type")!, /^application\/json/);
  assert.deepEqual(await response.json(), { output: "m" });
});

Deno.test("http answers msgpack to a JSON body when Accept lists msgpack among others", async () => {
  const response = await postJson(echoApp(), "/", { prompt: "j" }, {
    accept: "application/json;q=0.5, application/msgpack",
  });
  assert.equal(response.headers.get("content-type"), "application/msgpack");
  assert.deepEqual(codec.decode(await response.arrayBuffer()), { output: "j" });
});

Deno.test("http gives a handler without an input schema undefined for an empty body", async () => {
  const response = await post(echoApp(), "/raw");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {});
  const withNull = await postJson(echoApp(), "/raw", null);
  assert.deepEqual(await withNull.json(), { got: null });
});

Deno.test("http hands the handler the schema's output (transforms apply)", async () => {
  const app = new App().endpoint(
    "/",
    { input: z.object({ n: z.string().transform((s) => s.length) }) },
    (input) => ({ doubled: input.n * 2 }),
  );
  const response = await postJson(app, "/", { n: "abc" });
  assert.deepEqual(await response.json(), { doubled: 6 });
});

for (const cors of [false, true]) {
  const what = cors ? " (middleware on)" : "";
  Deno.test(`http routes a POST to a fixed endpoint path first, with or without a query${what}`, async () => {
    const app = new App({ cors })
      .get("/:file", (request) => new Response(new URL(request.url).pathname))
      .endpoint("/:name/run", {}, () => ({ by: "pattern" }))
      .endpoint("/a/run", {}, () => ({ by: "fixed" }));
    assert.deepEqual(await (await postJson(app, "/a/run", {})).json(), { by: "fixed" });
    assert.deepEqual(await (await postJson(app, "/a/run?x=1", {})).json(), { by: "fixed" });
    assert.deepEqual(await (await postJson(app, "/b/run", {})).json(), { by: "pattern" });
    assert.equal(await (await app.fetch(new Request("http://rally.test/page"))).text(), "/page");
    const other = await postJson(app, "/a/run/", {});
    assert.equal(other.status, 404, "a trailing slash is another path");
    await other.body?.cancel();
  });
}

Deno.test("http answers GET /health with the status and version", async () => {
  const response = await echoApp().fetch(new Request("http://rally.test/health"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok", version: VERSION });
});

Deno.test("http answers null when the handler returns nothing, in JSON and msgpack", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) })
    .endpoint("/", {}, () => undefined)
    .endpoint("/async", {}, async () => {});
  for (const path of ["/", "/async"]) {
    const json = await post(app, path);
    assert.equal(json.status, 200, path);
    assert.equal(await json.text(), "null");
    const msgpack = await post(app, path, undefined, { accept: "application/msgpack" });
    assert.deepEqual(new Uint8Array(await msgpack.arrayBuffer()), new Uint8Array([0xc0]));
  }
  assert.deepEqual(errors, []);
});

// Error shapes

Deno.test("http answers 404 with a FastAPI detail for an unknown path", async () => {
  const response = await postJson(echoApp(), "/x", {});
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { detail: "Path /x not found" });
  const get = await echoApp().fetch(new Request("http://rally.test/nope/deeper?q=1"));
  assert.deepEqual(await get.json(), { detail: "Path /nope/deeper not found" });
});

Deno.test("http answers 405 with Allow: POST to a GET on an HTTP endpoint", async () => {
  const response = await echoApp().fetch(new Request("http://rally.test/"));
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
  assert.deepEqual(await response.json(), { detail: "Method Not Allowed" });
});

Deno.test("http answers 405 with Allow: GET to a POST on a realtime or WebSocket path", async () => {
  for (const path of ["/realtime", "/ws"]) {
    const response = await postJson(echoApp(), path, {});
    assert.equal(response.status, 405, path);
    assert.equal(response.headers.get("allow"), "GET");
    // As helpful as the GET's 426: what the path is and how to connect.
    const { detail } = await response.json();
    assert.match(
      detail,
      new RegExp(`^${path} is a .*endpoint \\(a WebSocket\\): connect with GET`),
    );
  }
});

Deno.test("http answers 405 with Allow: GET to a POST on /health", async () => {
  const response = await postJson(echoApp(), "/health", {});
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET");
  assert.deepEqual(await response.json(), { detail: "Method Not Allowed" });
});

Deno.test("http answers 426 to a GET without Upgrade on a realtime or WebSocket path", async () => {
  for (const path of ["/realtime", "/ws"]) {
    const response = await echoApp().fetch(new Request(`http://rally.test${path}`));
    assert.equal(response.status, 426, path);
    assert.equal(response.headers.get("upgrade"), "websocket");
    const { detail } = await response.json();
    assert.equal(detail, `${path} is a WebSocket endpoint: connect with Upgrade: websocket`);
  }
});

Deno.test("http answers 415 to an unknown content type", async () => {
  const response = await post(echoApp(), "/", "prompt=hi", { "content-type": "text/plain" });
  assert.equal(response.status, 415);
  assert.deepEqual(await response.json(), {
    detail: "Unsupported content type text/plain: send application/json or application/msgpack",
  });
});

Deno.test("http answers 422 with loc, msg and type for a body that fails the schema", async () => {
  const response = await postJson(echoApp(), "/", { prompt: 42 });
  assert.equal(response.status, 422);
  const { detail } = await response.json();
  assert.equal(detail.length, 1);
  assert.deepEqual(detail[0].loc, ["body", "prompt"]);
  assert.equal(typeof detail[0].msg, "string");
  assert.match(detail[0].msg, /expected string/);
  assert.equal(detail[0].type, "value_error");
});

Deno.test("http answers 422 at loc ['body'] for a missing body", async () => {
  const response = await post(echoApp(), "/", undefined, { "content-type": "application/json" });
  assert.equal(response.status, 422);
  const { detail } = await response.json();
  assert.deepEqual(detail[0].loc, ["body"]);
  assert.match(detail[0].msg, /expected object/);
});

Deno.test("http answers 422 json_invalid for a body that is not JSON", async () => {
  const response = await post(echoApp(), "/", '{"prompt":', { "content-type": "application/json" });
  assert.equal(response.status, 422);
  const { detail } = await response.json();
  assert.deepEqual(detail[0].loc, ["body"]);
  assert.match(detail[0].msg, /^Invalid JSON: /);
  assert.equal(detail[0].type, "json_invalid");
});

Deno.test("http answers 422 msgpack_invalid for a body that is not msgpack", async () => {
  const response = await post(echoApp(), "/", new Uint8Array([0x92, 0x01]), {
    "content-type": "application/msgpack",
  });
  assert.equal(response.status, 422);
  assert.deepEqual(await response.json(), {
    detail: [{
      loc: ["body"],
      msg: "Cannot decode message: unexpected end of input",
      type: "msgpack_invalid",
    }],
  });
});

Deno.test("http answers 500 when the handler throws and reports the error to onError only", async () => {
  const errors: unknown[] = [];
  const app = echoApp(errors);
  for (const path of ["/throws", "/rejects"]) {
    const response = await postJson(app, path, {});
    assert.equal(response.status, 500, path);
    const text = await response.text();
    assert.equal(text, '{"detail":"Internal Server Error"}');
  }
  assert.deepEqual(errors.map((error) => (error as Error).message), [
    "secret detail",
    "async secret",
  ]);
});

Deno.test("http onError gets the request's context with the failing error", async () => {
  const seen: { error: unknown; ctx: Context }[] = [];
  const app = new App({ onError: (error, ctx) => seen.push({ error, ctx }) })
    .endpoint("/", {}, () => {
      throw new RangeError("bad");
    });
  await postJson(app, "/", {}, { "x-request-id": "req-7" });
  assert.equal(seen.length, 1);
  assert.ok(seen[0].error instanceof RangeError);
  assert.equal(seen[0].ctx.requestId, "req-7");
  assert.equal(new URL(seen[0].ctx.request.url).pathname, "/");
});

Deno.test("http answers 500 and reports to onError when the body cannot be read", async () => {
  const errors: unknown[] = [];
  const broken = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("connection lost"));
    },
  });
  const response = await post(echoApp(errors), "/raw", broken, {
    "content-type": "application/json",
  });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { detail: "Internal Server Error" });
  assert.deepEqual(errors.map((error) => (error as Error).message), ["connection lost"]);
});

Deno.test("http answers 500 when the output fails the output schema", async () => {
  const errors: unknown[] = [];
  const response = await postJson(echoApp(errors), "/bad-output", {});
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { detail: "Internal Server Error" });
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
  assert.match(errors[0].message, /^Output failed its schema/);
});

Deno.test("http answers 503 once the app drains", async () => {
  const app = echoApp();
  await app.drain(0);
  const response = await postJson(app, "/", { prompt: "late" });
  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), { detail: "Server is shutting down" });
});

// Context

Deno.test("http ctx.requestId is the x-request-id header, else a fresh UUID", async () => {
  const ids: string[] = [];
  const app = new App().endpoint("/", {}, (_input, ctx) => {
    ids.push(ctx.requestId);
    return {};
  });
  await postJson(app, "/", {}, { "x-request-id": "abc-123" });
  await postJson(app, "/", {});
  await postJson(app, "/", {});
  assert.equal(ids[0], "abc-123");
  assert.match(ids[1], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(ids[1], ids[2]);
});

Deno.test("http ctx.signal aborts when the app drains during the handler", async () => {
  const started = Promise.withResolvers<AbortSignal>();
  const app = new App().endpoint("/", {}, async (_input, ctx) => {
    started.resolve(ctx.signal);
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    return { aborted: ctx.signal.aborted };
  });
  const response = postJson(app, "/", {});
  const signal = await within(started.promise, "the handler to start", 5_000);
  assert.equal(signal.aborted, false);
  await app.drain(0);
  assert.deepEqual(await (await within(Promise.resolve(response), "a response", 5_000)).json(), {
    aborted: true,
  });
});

Deno.test("http ctx.signal aborts when the client disconnects", async () => {
  const started = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  const app = new App().endpoint("/", {}, async (_input, ctx) => {
    started.resolve();
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    aborted.resolve();
    return {};
  });
  await using server = serve(app, SERVE);
  const client = new AbortController();
  const request = fetch(`http://127.0.0.1:${server.addr.port}/`, {
    method: "POST",
    signal: client.signal,
  });
  await within(started.promise, "the handler to start", 5_000);
  client.abort();
  await assert.rejects(request, { name: "AbortError" });
  await within(aborted.promise, "ctx.signal to abort", 5_000);
});

// Body caps

Deno.test("http answers 413 to a Content-Length over maxMessageBytes", async () => {
  await using server = serve(echoApp(), SERVE);
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/small`, {
    method: "POST",
    headers: { "content-type": "application/msgpack" },
    body: new Uint8Array(2048),
  });
  assert.equal(response.status, 413);
  assert.deepEqual(await response.json(), { detail: "Request body is larger than 1024 bytes" });
});

Deno.test("http accepts a body of exactly maxMessageBytes", async () => {
  await using server = serve(echoApp(), SERVE);
  const body = codec.encode({ pad: "x".repeat(1024 - 8) });
  assert.equal(body.length, 1024);
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/small`, {
    method: "POST",
    headers: { "content-type": "application/msgpack" },
    body,
  });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).got.pad.length, 1016);
});

Deno.test("http answers 413 to a chunked body over the cap without reading it whole", async () => {
  await using server = serve(echoApp(), SERVE);
  // 3 KiB arrive, then the stream stays open until the response is in: a server that read
  // the whole body first would never answer.
  const answered = Promise.withResolvers<void>();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= 3 * 1024) {
        await answered.promise;
        controller.close();
        return;
      }
      sent += 512;
      controller.enqueue(new Uint8Array(512).fill(0x20));
    },
  });
  let response: Response;
  try {
    response = await within(
      fetch(`http://127.0.0.1:${server.addr.port}/small`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
      "a response while the body is still open",
      5_000,
    );
  } finally {
    answered.resolve();
  }
  assert.equal(response.status, 413);
  assert.deepEqual(await response.json(), { detail: "Request body is larger than 1024 bytes" });
});

Deno.test("http accepts a chunked body under the cap", async () => {
  await using server = serve(echoApp(), SERVE);
  const chunks = ['{"prompt"', ':"stre', 'amed"}'].map((s) => new TextEncoder().encode(s));
  const body = ReadableStream.from(chunks);
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { output: "streamed" });
});

Deno.test("http per-endpoint maxMessageBytes overrides the App's either way", async () => {
  const app = new App({ maxMessageBytes: 100 })
    .endpoint("/default", {}, () => ({ ok: true }))
    .endpoint("/larger", { maxMessageBytes: 1000 }, () => ({ ok: true }))
    .endpoint("/smaller", { maxMessageBytes: 10 }, () => ({ ok: true }));
  const body = (size: number) => JSON.stringify("x".repeat(size - 2));
  const status = async (path: string, size: number) =>
    (await postJson(app, path, JSON.parse(body(size)))).status;
  assert.equal(await status("/default", 100), 200);
  assert.equal(await status("/default", 101), 413);
  assert.equal(await status("/larger", 500), 200);
  assert.equal(await status("/larger", 1001), 413);
  assert.equal(await status("/smaller", 10), 200);
  assert.equal(await status("/smaller", 11), 413);
});

// Options and routes

Deno.test("App refuses maxMessageBytes over 64 MiB, zero or not a number when it starts", async () => {
  const request = new Request("http://rally.test/health");
  for (const maxMessageBytes of [64 * 1024 * 1024 + 1, 0, -1, NaN]) {
    // Read when the App starts (a subclass's fields are not set in the base constructor).
    const app = new App({ maxMessageBytes });
    assert.throws(() => app.fetch(request), RangeError, String(maxMessageBytes));
    assert.throws(() => serve(app, SERVE), RangeError, String(maxMessageBytes));
    assert.throws(
      () => new App().endpoint("/", { maxMessageBytes }, () => ({})),
      RangeError,
      String(maxMessageBytes),
    );
  }
  assert.throws(() => new App({ maxMessageBytes: 2 ** 27 }).fetch(request), {
    name: "RangeError",
    message:
      "Cannot start the App: maxMessageBytes must be a whole number of bytes from 1 to 67108864, received 134217728",
  });
  assert.equal((await new App({ maxMessageBytes: 64 * 1024 * 1024 }).fetch(request)).status, 200);
});

Deno.test("App refuses a second route at the same path, whatever its kind", () => {
  const app = new App().endpoint("/a", {}, () => ({}));
  assert.throws(() => app.endpoint("/a", {}, () => ({})), {
    name: "TypeError",
    message: "A route is already registered at /a",
  });
  assert.throws(() => app.realtime("/a", {}, () => ({})), TypeError);
  assert.throws(() => app.websocket("/a", () => {}), TypeError);
});

Deno.test("App refuses a path that does not start with a slash", () => {
  assert.throws(() => new App().endpoint("a", {}, () => ({})), {
    name: "TypeError",
    message: 'A path must start with "/": a',
  });
});

Deno.test("App serves routes added after its first request", async () => {
  const app = new App().endpoint("/one", {}, () => ({ n: 1 }));
  assert.equal((await postJson(app, "/two", {})).status, 404);
  app.endpoint("/two", {}, () => ({ n: 2 }));
  assert.deepEqual(await (await postJson(app, "/two", {})).json(), { n: 2 });
});

// The run() client against a real server

Deno.test("run() sends JSON and returns the endpoint's output", async () => {
  await using server = serve(echoApp(), SERVE);
  const url = `http://127.0.0.1:${server.addr.port}`;
  assert.deepEqual(await run(url, { path: "/", input: { prompt: "hi" } }), { output: "hi" });
});

Deno.test("run() with format msgpack sends and receives msgpack, bytes included", async () => {
  await using server = serve(echoApp(), SERVE);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const image = new Uint8Array([5, 6, 7]);
  const out = await run<{ got: { image: Uint8Array } }>(url, {
    path: "/raw",
    input: { image },
    format: "msgpack",
  });
  assert.ok(out.got.image instanceof Uint8Array);
  assert.deepEqual([...out.got.image], [5, 6, 7]);
});

Deno.test("run() throws HttpError with the status and the detail", async () => {
  await using server = serve(echoApp(), SERVE);
  const url = `http://127.0.0.1:${server.addr.port}`;
  await assert.rejects(run(url, { path: "/", input: { prompt: 1 } }), HttpError);
  try {
    await run(url, { path: "/", input: { prompt: 1 }, format: "msgpack" });
    assert.fail("run() resolved");
  } catch (error) {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 422);
    const detail = error.detail as { loc: unknown[] }[];
    assert.deepEqual(detail[0].loc, ["body", "prompt"]);
    assert.match(error.message, /^HTTP 422: \[/);
  }
  await assert.rejects(run(url, { path: "/missing" }), {
    name: "HttpError",
    status: 404,
    detail: "Path /missing not found",
    message: "HTTP 404: Path /missing not found",
  });
  await assert.rejects(run(url, { path: "/throws" }), {
    status: 500,
    detail: "Internal Server Error",
  });
});

Deno.test("run() sends its token as a Bearer header, with extra headers", async () => {
  const app = new App().endpoint("/", {}, (_input, ctx) => ({
    auth: ctx.request.headers.get("authorization"),
    id: ctx.requestId,
  }));
  await using server = serve(app, SERVE);
  const out = await run(`http://127.0.0.1:${server.addr.port}`, {
    token: "t0k",
    headers: { "x-request-id": "from-client" },
  });
  assert.deepEqual(out, { auth: "Bearer t0k", id: "from-client" });
});

Deno.test("run() joins the path to a base URL's path and accepts ws:// URLs", async () => {
  const app = new App().endpoint("/api/v1/go", {}, () => ({ ok: true }));
  await using server = serve(app, SERVE);
  const port = server.addr.port;
  assert.deepEqual(await run(`http://127.0.0.1:${port}/api/v1/`, { path: "go" }), { ok: true });
  assert.deepEqual(await run(`ws://127.0.0.1:${port}/api`, { path: "/v1/go" }), { ok: true });
});
