import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { callExample, EXAMPLE_RESULTS, freePort, spawnDeno } from "./_helpers.ts";
import { VERSION } from "../protocol.ts";

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
    const [lines] = await child.waitFor(/rally: serving .*(\n {2}.*){3}/, STARTUP_MS);
    const base = `http://127.0.0.1:${port}`;
    assert.equal(
      lines,
      [
        `rally: serving realtime-app on ${base}/ (playground: ${base}/docs)`,
        "  POST /          HTTP endpoint",
        "  GET  /realtime  realtime (WebSocket)",
        "  GET  /echo      raw WebSocket",
      ].join("\n"),
    );
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
    assert.deepEqual(await response.json(), { status: "ok", version: VERSION });
  } finally {
    status = await child.stop("SIGTERM");
  }
  assert.equal(status.code, 0, child.output());
});

Deno.test("cli exits 2 with a one-line error without a command, 0 with --help", async () => {
  const bare = spawnDeno(["run", "-A", "cli.ts"]);
  const bareStatus = await bare.exited(STARTUP_MS);
  assert.equal(bareStatus.code, 2);
  assert.equal(
    bare.output(),
    "rally: expected a command: serve, dev, call, openapi, client or init (see rally --help)\n",
  );

  const help = spawnDeno(["run", "-A", "cli.ts", "--help"]);
  assert.equal((await help.exited(STARTUP_MS)).code, 0);
  assert.match(help.output(), /^Usage: rally <command> \[options\]/);
});

Deno.test("cli exits 2 for a module whose default export is not an App", async () => {
  const child = spawnDeno(["run", "-A", "cli.ts", "serve", "codec.ts", "--port", "0"]);
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 2);
  assert.equal(
    child.output(),
    "rally: codec.ts must `export default` an App instance or an App class\n",
  );
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

// The class form, `call`, `openapi`, --parallel, keepAlive, bad arguments

const CLASS_APP = "tests/_class_app.ts";

/** Run `rally call ARGS` to its end; returns its exit code and output. */
async function call(args: string[]) {
  const child = spawnDeno(["run", "-A", "cli.ts", "call", ...args]);
  const status = await child.exited(STARTUP_MS);
  return { code: status.code, output: child.output() };
}

Deno.test("cli serves a default-exported App class; call reaches its HTTP, realtime, SSE and WebSocket endpoints", async () => {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnDeno(
    ["run", "-A", "cli.ts", "serve", CLASS_APP, "--port", String(port), "--host", "127.0.0.1"],
  );
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(/rally: serving words-app on /, STARTUP_MS);
    await child.waitFor(/rally-test: setup/, STARTUP_MS);
    const input = JSON.stringify({ prompt: "one two three" });
    assert.deepEqual(await call([url, input]), { code: 0, output: '{"words":3}\n' });
    assert.deepEqual(await call([url, "--path", "/realtime", "--realtime", input]), {
      code: 0,
      output: '{"word":"one"}\n',
    });
    assert.deepEqual(await call([url, "--path", "/words", "--stream", input]), {
      code: 0,
      output: '{"word":"one"}\n{"word":"two"}\n{"word":"three"}\n',
    });
    assert.deepEqual(await call([url, "--path", "/echo", "--ws", "not JSON"]), {
      code: 0,
      output: 'not JSON\n"AQID"\n',
    });
    const invalid = await call([url, '{"prompt":1}']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.output, /^rally: HTTP 422: \[{"loc":\["body","prompt"\]/);
  } finally {
    status = await child.stop("SIGTERM");
  }
  assert.equal(status.code, 0, child.output());
  assert.match(child.output(), /rally-test: teardown\n$/);
});

Deno.test("cli serve --parallel runs deno serve --parallel on the module, a class export included", async () => {
  const port = freePort();
  const child = spawnDeno(
    [
      "run",
      "-A",
      "cli.ts",
      "serve",
      CLASS_APP,
      "--parallel",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ],
    { DENO_JOBS: "2" },
  );
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(/Listening on http:\/\/127\.0\.0\.1:\d+\/ with 2 threads/, STARTUP_MS);
    for (let i = 1; i <= 4; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: "w ".repeat(i).trim() }),
      });
      assert.deepEqual(await response.json(), { words: i });
    }
  } finally {
    // Deno 2.9.6 drops a SIGTERM that arrives while a worker is still starting.
    status = await child.stop("SIGTERM", { repeatEveryMs: 1_000 });
  }
  assert.equal(status.code, 0, child.output());
});

Deno.test("cli serve exits 0 by itself after keepAlive seconds without work", async () => {
  const child = spawnDeno(
    ["run", "-A", "cli.ts", "serve", CLASS_APP, "--port", "0", "--host", "127.0.0.1"],
    { KEEP_ALIVE: "0.3" },
  );
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 0, child.output());
  assert.match(child.output(), /rally-test: setup\nrally-test: teardown\n$/);
});

Deno.test("cli serve exits 1 when the App's setup fails", async () => {
  const child = spawnDeno(
    ["run", "-A", "cli.ts", "serve", CLASS_APP, "--port", "0", "--host", "127.0.0.1"],
    { FAIL_SETUP: "1" },
  );
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 1, child.output());
  assert.match(child.output(), /rally: setup of words-app failed: Error: the model would not load/);
});

Deno.test("cli openapi prints the App's OpenAPI document", async () => {
  const child = spawnDeno(["run", "-A", "cli.ts", "openapi", "examples/realtime_app.ts"]);
  const status = await child.exited(STARTUP_MS);
  assert.equal(status.code, 0, child.output());
  const document = JSON.parse(child.output());
  assert.equal(document.info.title, "realtime-app");
  assert.deepEqual(Object.keys(document.paths).sort(), ["/", "/echo", "/health", "/realtime"]);
  assert.equal(document.paths["/realtime"]["x-fal-protocol"].config.buffering, null); // fal's seed
});

Deno.test("cli --help of each command prints its usage and exits 0", async () => {
  for (const command of ["serve", "call", "openapi"]) {
    const { code, output } = await captured(() => main([command, "--help"]));
    assert.equal(code, 0);
    assert.match(output, new RegExp(`^Usage: rally ${command} `));
  }
  const serveHelp = (await captured(() => main(["serve", "-h"]))).output;
  assert.match(serveHelp, /--parallel .*Deno then closes sockets itself/s);
});

Deno.test("cli answers bad arguments with one line on stderr and exit code 2", async () => {
  const cases: [string[], string][] = [
    [["bogus"], 'rally: unknown command "bogus" (see rally --help)'],
    [["serve"], "rally: expected one APP.ts, got 0 arguments"],
    [["serve", "a.ts", "b.ts"], "rally: expected one APP.ts, got 2 arguments"],
    [["serve", "examples/realtime_app.ts", "--bogus"], "rally: Unknown option '--bogus'"],
    [
      ["serve", "examples/realtime_app.ts", "--port"],
      "rally: Option '--port <value>' argument missing",
    ],
    [["openapi"], "rally: expected one APP.ts, got 0 arguments"],
    [["call", "http://127.0.0.1:1"], "rally: call takes URL and JSON, got 1 arguments"],
    [["call", "nowhere", "{}"], 'rally: not a URL: "nowhere"'],
    [["call", "http://127.0.0.1:1", "{nope"], "rally: not JSON: "],
    [
      ["call", "http://127.0.0.1:1", "--ws", "--stream", "{}"],
      "rally: choose one of --realtime, --ws and --stream, not --ws and --stream",
    ],
  ];
  for (const [args, line] of cases) {
    const { code, output } = await captured(() => main(args));
    assert.equal(code, 2, args.join(" "));
    assert.ok(output.startsWith(line), `${args.join(" ")}: ${output}`);
    assert.equal(output.split("\n").length, 2, `one line for ${args.join(" ")}: ${output}`);
  }
});

/** Run `fn` with console.log and console.error captured. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; output: string }> {
  const { log, error } = console;
  let output = "";
  console.log = console.error = (...args: unknown[]) => output += args.join(" ") + "\n";
  try {
    return { code: await fn(), output };
  } finally {
    console.log = log;
    console.error = error;
  }
}
