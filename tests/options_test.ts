import assert from "node:assert/strict";
import { App, HttpError, run, serve } from "../mod.ts";
import { z } from "zod";

Deno.test("every range check says what could not be done, the rule and the value received", () => {
  const handler = () => ({});
  const cases: [() => unknown, string][] = [
    [
      () => new App().realtime("/rt", { buffering: 0 }, handler),
      "Cannot add the realtime route /rt: buffering must be a whole number of at least 1, received 0",
    ],
    [
      () => new App().realtime("/rt", { sessionTimeout: -5 }, handler),
      "Cannot add the realtime route /rt: sessionTimeout must be a number of seconds greater than 0, received -5",
    ],
    [
      () => new App().realtime("/rt", { mode: "bidi", maxBatchSize: 4 }, async function* () {}),
      'Cannot add the realtime route /rt: maxBatchSize goes with mode "unary" only, received mode "bidi"',
    ],
    [
      () => new App().endpoint("/", { maxMessageBytes: 0.5 }, handler),
      "Cannot add the endpoint route /: maxMessageBytes must be a whole number of bytes from 1 to 67108864, received 0.5",
    ],
    [
      () => new App({ rateLimit: { messages: -1 } }).fetch(new Request("http://rally.test/")),
      "Cannot start the App: rateLimit.messages must be a number greater than 0 and at most 1.7976931348623157e+308, received -1",
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, { name: "RangeError", message });
});

Deno.test("App options are declared once: constructor options and subclass fields set the same properties", () => {
  class Sub extends App {
    override keepAlive = 60;
  }
  const sub = new Sub({ keepAlive: 5, maxSessions: 3 });
  assert.equal(sub.keepAlive, 60, "a subclass field wins over the constructor's option");
  assert.equal(sub.maxSessions, 3);
  assert.equal(new App({ keepAlive: 5 }).keepAlive, 5);
  assert.equal(sub.name, "sub");
});

Deno.test("a handler throws HttpError to answer its status with FastAPI's body; the client's run() throws the same class", async () => {
  const app = new App()
    .endpoint("/", { input: z.object({ model: z.string() }) }, ({ model }) => {
      throw new HttpError(404, `No such model: ${model}`);
    })
    .get("/page", () => {
      throw new HttpError(403, [{ loc: ["query"], msg: "not yours", type: "forbidden" }]);
    })
    .stream("/steps", {}, function* () {
      yield { step: 1 };
      throw new HttpError(409, "The job was cancelled");
    });
  const errors: unknown[] = [];
  app.onError = (error) => errors.push(error);
  await using server = serve(app, {
    port: 0,
    hostname: "127.0.0.1",
    signals: false,
    onListen() {},
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const error = await run(url, { input: { model: "nope" } }).then(() => undefined, (e) => e);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 404);
  assert.equal(error.detail, "No such model: nope");
  const page = await fetch(`${url}/page`);
  assert.equal(page.status, 403);
  assert.deepEqual(await page.json(), {
    detail: [{ loc: ["query"], msg: "not yours", type: "forbidden" }],
  });
  const sse = await (await fetch(`${url}/steps`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json" },
  })).text();
  assert.match(sse, /event: error\ndata: \{"detail":"The job was cancelled"\}/);
  assert.deepEqual(errors, [], "an HttpError is an answer, not a failure for onError");
});

Deno.test("HttpError refuses a status that is not an error status", () => {
  assert.throws(() => new HttpError(200, "ok"), {
    name: "RangeError",
    message: "Cannot create HttpError: status must be an integer from 400 to 599, received 200",
  });
});
