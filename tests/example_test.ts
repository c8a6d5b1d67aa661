import assert from "node:assert/strict";
import { serve } from "../server/mod.ts";
import app from "../examples/realtime_app.ts";
import { callExample, EXAMPLE_RESULTS, freePort, spawnDeno } from "./_helpers.ts";

const STARTUP_MS = 30_000;

Deno.test("example module answers on all three endpoints under deno serve", async () => {
  const port = freePort();
  const child = spawnDeno([
    "serve",
    "-A",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "examples/realtime_app.ts",
  ]);
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/`), STARTUP_MS);
    assert.deepEqual(await callExample(`http://127.0.0.1:${port}`), EXAMPLE_RESULTS);
  } finally {
    status = await child.stop("SIGTERM");
  }
  assert.equal(status.code, 0, child.output());
});

Deno.test("example module answers under deno serve --parallel with two workers", async () => {
  const port = freePort();
  const child = spawnDeno([
    "serve",
    "--parallel",
    "-A",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "examples/realtime_app.ts",
  ], { DENO_JOBS: "2" });
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(/Listening on .* with 2 threads/, STARTUP_MS);
    const url = `http://127.0.0.1:${port}`;
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
  } finally {
    // Deno 2.9.6 drops a SIGTERM that arrives while a worker is still starting (the first one
    // answers before the second is up), so send it until the process goes.
    status = await child.stop("SIGTERM", { repeatEveryMs: 1_000 });
  }
  assert.equal(status.code, 0, child.output());
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
  const status = await client.exited(STARTUP_MS);
  assert.equal(status.code, 0, client.output());
  assert.equal(
    client.output(),
    [
      'http: { output: "Hello, world!" }',
      'realtime: { output: "Hello, world! #0" }',
      'realtime: { output: "Hello, world! #1" }',
      'realtime: { output: "Hello, world! #2" }',
      "websocket: msg-0",
      "websocket: msg-1",
      "websocket: msg-2",
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
    config: { buffering: 2, sessionTimeout: null, maxBatchSize: 1 },
    contentType: "application/msgpack",
    realtimeMode: "unary",
  });
  assert.deepEqual(paths["/echo"]["x-fal-protocol"], { type: "websocket", operationId: "echo" });
});
