import assert from "node:assert/strict";
import { serve } from "../server/mod.ts";
import app from "../examples/realtime_app.ts";
import { callExample, EXAMPLE_RESULTS, spawnDeno, withDenoServe } from "./_helpers.ts";

Deno.test("example module answers on all three endpoints under deno serve", async () => {
  await withDenoServe("examples/realtime_app.ts", 1, async (url) => {
    assert.deepEqual(await callExample(url), EXAMPLE_RESULTS);
  });
});

Deno.test("example module answers under deno serve --parallel with two workers", async () => {
  await withDenoServe("examples/realtime_app.ts", 2, async (url) => {
    // Several requests, so that both workers are likely to take some.
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${url}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: `p${i}` }),
      });
      assert.deepEqual(await response.json(), { output: `p${i}` });
    }
    assert.deepEqual(await callExample(url), EXAMPLE_RESULTS);
  });
});

Deno.test("examples/client.ts prints the outputs of the example's three endpoints", async () => {
  await using server = serve(app, {
    port: 0,
    hostname: "127.0.0.1",
    signals: false,
    onListen() {},
  });
  const client = spawnDeno([
    "run",
    "-A",
    "examples/client.ts",
    `http://127.0.0.1:${server.addr.port}`,
  ]);
  const status = await client.exited(30_000);
  assert.equal(status.code, 0, client.output());
  assert.equal(
    client.output(),
    [
      'http: { output: "Hello, world!" }',
      'realtime: { output: "Hello, world! #0" }',
      'realtime: { output: "Hello, world! #1" }',
      'realtime: { output: "Hello, world! #2" }',
      "websocket: Hello, world!-0",
      "websocket: Hello, world!-1",
      "websocket: Hello, world!-2",
      "",
    ].join("\n"),
  );
});

Deno.test("example module default-exports the seed's RealtimeApp in the class form, named realtime-app", () => {
  assert.equal(app.constructor.name, "RealtimeApp");
  assert.equal(app.name, "realtime-app");
  const { paths } = app.openapi();
  assert.deepEqual(Object.keys(paths).sort(), ["/", "/echo", "/health", "/realtime"]);
  assert.deepEqual(paths["/realtime"]["x-fal-protocol"], {
    type: "realtime",
    operationId: "realtime",
    config: { buffering: null, sessionTimeout: null, maxBatchSize: 1 },
    contentType: "application/msgpack",
    realtimeMode: "unary",
  });
  assert.deepEqual(paths["/echo"]["x-fal-protocol"], { type: "websocket", operationId: "echo" });
});
