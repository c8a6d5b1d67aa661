/**
 * `rally init DIR` (issue 16, item 13): the starter project, written in a temporary folder outside
 * the checkout, passes its own tests (`deno task test`, in memory with `testClient(app)`), is formatted and lint-clean, and its dev
 * task serves the App that its client calls; a folder that is not empty is refused.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { rallySource } from "../cli/init.ts";
import { ZOD } from "../cli/starter.ts";
import { freePort, ROOT, spawnDeno } from "./_helpers.ts";

const RUN_MS = 60_000;
const CHECKOUT = fileURLToPath(ROOT).replace(/\/$/, "");

/** `rally init` into a new folder inside a new temporary folder; its path. */
async function init(parent: string): Promise<string> {
  const target = `${parent}/my-app`;
  const child = spawnDeno(["run", "-A", "cli.ts", "init", target]);
  const status = await child.exited(RUN_MS);
  assert.equal(status.code, 0, child.output());
  assert.match(child.output(), /^rally: wrote deno\.json, main\.ts, client\.ts, main_test\.ts/);
  return target;
}

/** `deno ARGS` in the project; its exit code and output, within the time bound. */
async function denoIn(dir: string, args: string[], env: Record<string, string> = {}) {
  const child = spawnDeno(args, env, dir);
  const status = await child.exited(RUN_MS);
  return { code: status.code, output: child.output() };
}

Deno.test("rally init writes a project outside the checkout whose own tests pass", async () => {
  const parent = await Deno.makeTempDir({ prefix: "rally-init-" });
  try {
    const dir = await init(parent);
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assert.deepEqual(names, ["README.md", "client.ts", "deno.json", "main.ts", "main_test.ts"]);

    const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    const own = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
    assert.deepEqual(config.links, [CHECKOUT], "links to the checkout rally ran from");
    assert.equal(config.imports["@rally/rally"], `jsr:@rally/rally@^${own.version}`);
    assert.equal(config.imports.zod, own.imports.zod);
    assert.equal(ZOD, own.imports.zod);
    assert.deepEqual(Object.keys(config.tasks).sort(), ["client", "dev", "start", "test"]);
    assert.match(await Deno.readTextFile(`${dir}/main.ts`), /new App\(\{ name: "my-app" \}\)/);
    const test = await Deno.readTextFile(`${dir}/main_test.ts`);
    assert.match(test, /from "@rally\/rally\/testing";[^]*testClient\(app\)/);

    const tested = await denoIn(dir, ["task", "test"]);
    assert.equal(tested.code, 0, tested.output);
    assert.match(tested.output, /ok \| 2 passed \| 0 failed/);

    const tidy = await denoIn(dir, ["fmt", "--check"]);
    assert.equal(tidy.code, 0, tidy.output);
    const lint = await denoIn(dir, ["lint"]);
    assert.equal(lint.code, 0, lint.output);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("the new project's dev task serves the App that its client script calls", async () => {
  const parent = await Deno.makeTempDir({ prefix: "rally-init-" });
  try {
    const dir = await init(parent);
    const { tasks } = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    // The dev task's own command (deno task would put a shell between the test and the server).
    const port = freePort();
    const dev = spawnDeno(tasks.dev.split(" ").slice(1), { PORT: String(port) }, dir);
    try {
      await dev.waitFor(
        /rally: serving my-app on .*\n {2}POST \/ {2}.*\n {2}GET {2}\/realtime .*/,
        RUN_MS,
      );
      const called = await denoIn(dir, ["run", "-A", "client.ts", `http://127.0.0.1:${port}`]);
      assert.equal(called.code, 0, called.output);
      assert.equal(
        called.output,
        `{ reply: "You said: hello" }\n{ upper: "HELLO" }\n{ upper: "AGAIN" }\n`,
      );
      await dev.waitFor(/^realtime \/realtime closed 1000 .*: 2 in, 2 out$/m, RUN_MS);
    } finally {
      await dev.stop("SIGTERM");
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("rally init refuses a folder that is not empty, and a file", async () => {
  const parent = await Deno.makeTempDir({ prefix: "rally-init-" });
  try {
    await Deno.writeTextFile(`${parent}/notes.txt`, "mine");
    const busy = spawnDeno(["run", "-A", "cli.ts", "init", parent]);
    assert.equal((await busy.exited(RUN_MS)).code, 1);
    assert.match(
      busy.output(),
      /^rally: Cannot init .*: the folder is not empty \(notes\.txt\)\. Name a new or empty folder \(rally init .*my-app\), or move its files away first\n$/,
    );
    assert.deepEqual([...Deno.readDirSync(parent)].map((entry) => entry.name), ["notes.txt"]);

    const file = spawnDeno(["run", "-A", "cli.ts", "init", `${parent}/notes.txt`]);
    assert.equal((await file.exited(RUN_MS)).code, 1);
    assert.match(file.output(), /^rally: Cannot init .*notes\.txt: it is a file\./);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("rally init links a checkout only, and imports jsr:@rally/rally otherwise", async () => {
  assert.deepEqual(await rallySource(new URL("cli/init.ts", ROOT).href), { link: CHECKOUT });
  assert.deepEqual(await rallySource("https://jsr.io/@rally/rally/0.1.0/cli/init.ts"), {});
  // A file: URL with no rally deno.json two levels up (a vendored single file): JSR.
  const elsewhere = await Deno.makeTempDir({ prefix: "rally-init-" });
  try {
    assert.deepEqual(await rallySource(`file://${elsewhere}/cli/init.ts`), {});
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});
