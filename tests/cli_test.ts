import assert from "node:assert/strict";
import { callExample, EXAMPLE_RESULTS, freePort, spawnDeno } from "./_helpers.ts";

const STARTUP_MS = 30_000;

Deno.test("cli serves the example's three endpoints, then exits 0 on SIGTERM", async () => {
  const port = freePort();
  const child = spawnDeno([
    "run",
    "-A",
    "cli.ts",
    "serve",
    "examples/realtime_app.ts",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
  ]);
  let status: Deno.CommandStatus;
  try {
    const [line] = await child.waitFor(/rally: serving .*/, STARTUP_MS);
    assert.equal(line, `rally: serving realtime-app on http://127.0.0.1:${port}/`);
    assert.deepEqual(await callExample(`http://127.0.0.1:${port}`), EXAMPLE_RESULTS);
  } finally {
    status = await child.stop("SIGTERM");
  }
  assert.equal(status.signal, null);
  assert.equal(status.code, 0, child.output());
});

Deno.test("cli takes the port from PORT when --port is not given", async () => {
  const port = freePort();
  const child = spawnDeno(
    ["run", "-A", "cli.ts", "serve", "examples/realtime_app.ts", "--host", "127.0.0.1"],
    { PORT: String(port) },
  );
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(
      new RegExp(`rally: serving realtime-app on http://127.0.0.1:${port}/`),
      STARTUP_MS,
    );
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    assert.deepEqual(await response.json(), { status: "ok", version: "0.1.0" });
  } finally {
    status = await child.stop("SIGTERM");
  }
  assert.equal(status.code, 0, child.output());
});

Deno.test("cli prints its usage and exits 2 without a command, 0 with --help", async () => {
  const bare = spawnDeno(["run", "-A", "cli.ts"]);
  const bareStatus = await bare.exited(STARTUP_MS);
  assert.equal(bareStatus.code, 2);
  assert.match(bare.output(), /^Usage: rally serve <app\.ts> \[--port N\] \[--host H\]/);

  const help = spawnDeno(["run", "-A", "cli.ts", "--help"]);
  assert.equal((await help.exited(STARTUP_MS)).code, 0);
  assert.match(help.output(), /^Usage: rally serve/);
});

Deno.test("cli exits 2 for a module whose default export is not an App", async () => {
  const child = spawnDeno(["run", "-A", "cli.ts", "serve", "codec.ts", "--port", "0"]);
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 2);
  assert.match(child.output(), /rally: codec\.ts must `export default` an App instance/);
});

Deno.test("cli exits 2 for a port that is not a port", async () => {
  const child = spawnDeno([
    "run",
    "-A",
    "cli.ts",
    "serve",
    "examples/realtime_app.ts",
    "--port",
    "http",
  ]);
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 2);
  assert.match(child.output(), /rally: not a port: "http"/);
});

Deno.test("cli exits 2 for an empty PORT instead of serving on a random port", async () => {
  const child = spawnDeno(["run", "-A", "cli.ts", "serve", "examples/realtime_app.ts"], {
    PORT: "",
  });
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 2, child.output());
  assert.match(child.output(), /rally: not a port: ""/);
});
