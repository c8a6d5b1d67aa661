/**
 * `rally dev APP.ts` (issue 16, item 12): the route table at start, text logs (requests, sessions,
 * a handler's error with its stack), a reload when a file of the App changes, a wait for the fix
 * when the App does not load, and no server left behind when `rally dev` ends.
 */
import assert from "node:assert/strict";
import { realtime, run } from "../client/mod.ts";
import { freePort, ROOT, spawnDeno } from "./_helpers.ts";

const STARTUP_MS = 30_000;

/** An App module in a temporary folder (outside the checkout), importing rally by path. */
function appSource(word: string): string {
  return `import { App } from ${JSON.stringify(new URL("server/mod.ts", ROOT).href)};
import { word } from "./word.ts";

export default new App({ name: "dev-app" })
  .endpoint("/", {}, () => ({ word }))
  .endpoint("/boom", {}, function explode() {
    throw new TypeError("boom in the handler");
  })
  .realtime("/realtime", {}, (input) => input)
  .stream("/tokens", {}, function* () {
    yield ${JSON.stringify(word)};
  });
`;
}

async function tempApp(word: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rally-dev-" });
  await Deno.writeTextFile(`${dir}/word.ts`, `export const word = ${JSON.stringify(word)};\n`);
  await Deno.writeTextFile(`${dir}/app.ts`, appSource(word));
  return dir;
}

/** Wait until nothing listens on the port any more (connections refused), within `ms`. */
async function portClosed(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionRefused) return;
      throw error;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`something still listens on port ${port} after ${ms} ms`);
}

Deno.test("rally dev prints the routes, logs in text, reloads on a change (and --watch PATHS), stops with SIGTERM", async () => {
  const dir = await tempApp("one");
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await Deno.writeTextFile(`${dir}/data.txt`, "1");
  const child = spawnDeno([
    "run",
    "-A",
    "cli.ts",
    "dev",
    `${dir}/app.ts`,
    "--port",
    String(port),
    "--watch",
    `${dir}/data.txt`,
  ]);
  let status: Deno.CommandStatus;
  try {
    const [table] = await child.waitFor(/rally: serving dev-app[^]*?SSE stream\n/, STARTUP_MS);
    assert.equal(
      table,
      [
        `rally: serving dev-app on ${base}/ (playground: ${base}/docs)`,
        `  POST /          HTTP endpoint`,
        `  POST /boom      HTTP endpoint`,
        `  GET  /realtime  realtime (WebSocket)`,
        `  POST /tokens    SSE stream`,
        ``,
      ].join("\n"),
    );

    assert.deepEqual(await run(base, { input: {} }), { word: "one" });
    await child.waitFor(/^POST \/ 200 \d+(\.\d)?ms$/m, STARTUP_MS);

    await assert.rejects(run(base, { path: "/boom", input: {} }));
    // The error and its stack (the handler's frame), then the request's line.
    await child.waitFor(/^ERROR handler failed in \/boom \(request [-\w]+\): /m, STARTUP_MS);
    await child.waitFor(
      /TypeError: boom in the handler\n\s+at \S*explode .*\(file:.*app\.ts:/,
      STARTUP_MS,
    );
    await child.waitFor(/^ERROR POST \/boom 500 /m, STARTUP_MS);

    {
      await using conn = await realtime(base);
      conn.send({ n: 1 });
      assert.deepEqual(await conn.receive(), { n: 1 });
    }
    await child.waitFor(/^realtime \/realtime opened$/m, STARTUP_MS);
    await child.waitFor(/^realtime \/realtime closed 1000 after .+: 1 in, 1 out$/m, STARTUP_MS);
    assert.doesNotMatch(child.output(), /^\{"/m, "no JSON log lines");

    // A file the App imports changes: the server restarts with it.
    await Deno.writeTextFile(`${dir}/word.ts`, `export const word = "two";\n`);
    await child.waitFor(/Restarting[^]*rally: serving dev-app/, STARTUP_MS);
    assert.deepEqual(await run(base, { input: {} }), { word: "two" });

    // So does a file named with --watch, which no module imports.
    await Deno.writeTextFile(`${dir}/data.txt`, "2");
    await child.waitFor(
      /Restarting[^]*rally: serving[^]*Restarting[^]*data\.txt[^]*rally: serving/,
      STARTUP_MS,
    );
  } finally {
    status = await child.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(status.code, 0, child.output());
  await portClosed(port, 10_000);
});

Deno.test("rally dev shows why the App does not load, then serves it once the file is fixed", async () => {
  const dir = await tempApp("fixed");
  await Deno.writeTextFile(`${dir}/app.ts`, `export const notAnApp = 1;\n`);
  const port = freePort();
  const child = spawnDeno(["run", "-A", "cli.ts", "dev", `${dir}/app.ts`, "--port", String(port)]);
  try {
    await child.waitFor(
      /must `export default` an App[^]*rally: waiting for a file change/,
      STARTUP_MS,
    );
    await Deno.writeTextFile(`${dir}/app.ts`, appSource("fixed"));
    await child.waitFor(/rally: serving dev-app/, STARTUP_MS);
    assert.deepEqual(await run(`http://127.0.0.1:${port}`, { input: {} }), { word: "fixed" });
  } finally {
    await child.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
  await portClosed(port, 10_000);
});

Deno.test("the server rally dev runs ends when rally dev is killed with SIGKILL", async () => {
  const dir = await tempApp("one");
  const port = freePort();
  const child = spawnDeno(["run", "-A", "cli.ts", "dev", `${dir}/app.ts`, "--port", String(port)]);
  try {
    await child.waitFor(/rally: serving dev-app/, STARTUP_MS);
    const status = await child.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    await portClosed(port, 10_000);
  } finally {
    await child.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rally dev exits 2 on bad arguments and prints its help", async () => {
  const none = spawnDeno(["run", "-A", "cli.ts", "dev"]);
  assert.equal((await none.exited(STARTUP_MS)).code, 2);
  assert.equal(none.output(), "rally: expected one APP.ts, got 0 arguments\n");
  const help = spawnDeno(["run", "-A", "cli.ts", "dev", "--help"]);
  assert.equal((await help.exited(STARTUP_MS)).code, 0);
  assert.match(help.output(), /^Usage: rally dev APP\.ts/);
});
