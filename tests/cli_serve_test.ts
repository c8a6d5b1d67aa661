/**
 * `rally serve` with an App from another copy of rally (issue 16, item 3) and `rally client`
 * (item 2): the brand `Symbol.for("rally.app")`, and the browser client written as one module
 * with its source map.
 */
import assert from "node:assert/strict";
import { freePort, ROOT, spawnDeno } from "./_helpers.ts";

const STARTUP_MS = 30_000;

/** Copy what an App needs of rally (no tests, no examples) into `dir`. */
async function copyRally(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const name of ["mod.ts", "codec.ts", "protocol.ts", "deno.json"]) {
    await Deno.copyFile(new URL(name, ROOT), `${dir}/${name}`);
  }
  for (const folder of ["server", "client", "internal"]) {
    const { code } = await new Deno.Command("cp", {
      args: ["-r", new URL(folder, ROOT).pathname, `${dir}/${folder}`],
    }).output();
    assert.equal(code, 0);
  }
}

Deno.test("cli serves an App made with another copy of rally, with that copy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await copyRally(`${dir}/other-rally`);
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { App } from "./other-rally/server/mod.ts";\n` +
        `export default new App({ name: "elsewhere" }).endpoint("/", {}, () => ({ copy: "other" }));\n`,
    );
    const port = freePort();
    const child = spawnDeno([
      "run",
      "-A",
      "cli.ts",
      "serve",
      `${dir}/app.ts`,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ]);
    try {
      await child.waitFor(
        /rally: serving elsewhere on .*\n {2}POST \/ {2}HTTP endpoint/,
        STARTUP_MS,
      );
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST" });
      assert.deepEqual(await response.json(), { copy: "other" });
    } finally {
      const status = await child.stop("SIGTERM");
      assert.equal(status.code, 0, child.output());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli names the cause for an App of an older copy without the brand", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/old.ts`,
      "export default { name: 'old', fetch: () => new Response(), openapi: () => ({}) };\n",
    );
    const child = spawnDeno(["run", "-A", "cli.ts", "serve", `${dir}/old.ts`, "--port", "0"]);
    const status = await child.exited(STARTUP_MS);
    assert.equal(status.code, 2);
    assert.match(
      child.output(),
      /old\.ts default-exports an App from a copy of rally without the brand this CLI knows \(Symbol\.for\("rally\.app"\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli client writes the browser client as one ES module with a source map", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/public/rally.js`;
    const child = spawnDeno(["run", "-A", "cli.ts", "client", out]);
    const status = await child.exited(STARTUP_MS);
    assert.equal(status.code, 0, child.output());
    const code = await Deno.readTextFile(out);
    assert.match(code, /\/\/# sourceMappingURL=rally\.js\.map\s*$/);
    const map = JSON.parse(await Deno.readTextFile(`${out}.map`));
    assert.equal(map.version, 3);
    assert.ok(map.sources.some((source: string) => source.endsWith("client/realtime.ts")));
    // Standalone: no import left, nothing of the server, and it loads as a module.
    assert.doesNotMatch(code, /^import /m);
    assert.doesNotMatch(code, /Deno\.serve|upgradeWebSocket/);
    const client = await import(new URL(`file://${out}`).href);
    for (const name of ["realtime", "connect", "wsConnect", "run", "stream", "fetchToken"]) {
      assert.equal(typeof client[name], "function", name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli serve's startup line follows the App's docs option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [docs, expected] of [[false, ""], ["/play", " (playground: BASE/play)"]] as const) {
      await Deno.writeTextFile(
        `${dir}/app.ts`,
        `import { App } from ${JSON.stringify(new URL("server/mod.ts", ROOT).href)};\n` +
          `export default Object.assign(new App({ name: "quiet" }).endpoint("/", {}, () => ({})), ` +
          `{ docs: ${JSON.stringify(docs)} });\n`,
      );
      const port = freePort();
      const child = spawnDeno([
        "run",
        "-A",
        "cli.ts",
        "serve",
        `${dir}/app.ts`,
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
      ]);
      try {
        const [line] = await child.waitFor(/rally: serving quiet on .*/, STARTUP_MS);
        const base = `http://127.0.0.1:${port}`;
        assert.equal(
          line,
          `rally: serving quiet on ${base}/${expected.replace("BASE", base)}`,
        );
      } finally {
        await child.stop("SIGTERM");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
