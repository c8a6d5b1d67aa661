/**
 * The client type-checks under a browser's types (`lib: ["dom", "dom.iterable", "esnext"]`), not
 * only under Deno's: the DOM's `WebSocket.send` takes no `Uint8Array<ArrayBufferLike>`, which
 * Deno's does, so a view that may be over shared memory passes `deno check` and fails in a
 * browser project's `tsc`.
 *
 * The check runs `deno check` with a config written to a temp dir (the project's `imports`, the
 * DOM libs, no lockfile), and is first shown to catch a planted defect.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

/** The libs a browser project compiles with. */
const DOM_LIBS = ["dom", "dom.iterable", "esnext"];

/** `deno check` the modules under the DOM libs; the exit code and the diagnostics. */
async function checkUnderDom(dir: string, modules: string[]) {
  const project = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const config = `${dir}/deno.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({ compilerOptions: { lib: DOM_LIBS }, imports: project.imports, lock: false }),
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", config, ...modules],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  return {
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout),
  };
}

Deno.test("the DOM-types check catches a planted Uint8Array<ArrayBufferLike> sent on a WebSocket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rally_dom_types_" });
  try {
    const planted = `${dir}/planted.ts`;
    await Deno.writeTextFile(
      planted,
      "export function send(ws: WebSocket, bytes: Uint8Array): void {\n  ws.send(bytes);\n}\n",
    );
    const { code, stderr } = await checkUnderDom(dir, [planted]);
    assert.notEqual(code, 0, "the planted defect passed: the DOM libs are not in effect");
    assert.match(stderr, /TS2345/, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client/mod.ts type-checks under the DOM libs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rally_dom_types_" });
  try {
    const { code, stderr } = await checkUnderDom(dir, ["client/mod.ts"]);
    assert.equal(code, 0, `client/mod.ts does not type-check under the DOM libs:\n${stderr}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
