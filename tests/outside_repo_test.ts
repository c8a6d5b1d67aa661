/**
 * Using rally from a folder outside its checkout (issue 16, item 1), as the README's "In your own
 * project" says: a `deno.json` that maps `@rally/rally` to its JSR name and `links` the checkout,
 * so rally's own `imports` (its npm dependencies) apply to its files. Nothing is fetched from JSR.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { within } from "./_realtime_helpers.ts";

const RUN_MS = 60_000;

const APP = `import { App, serve } from "@rally/rally/server";
import { realtime, run } from "@rally/rally/client";
import { z } from "zod";

const Input = z.object({ prompt: z.string() });
const app = new App({ name: "mine" })
  .endpoint("/", { input: Input }, (input) => ({ output: input.prompt }))
  .realtime("/realtime", { input: Input }, (input) => ({ output: input.prompt.toUpperCase() }));

await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
const base = \`http://127.0.0.1:\${server.addr.port}\`;
await using conn = await realtime(base);
conn.send({ prompt: "hi" });
console.log(JSON.stringify([await run(base, { input: { prompt: "hi" } }), await conn.receive()]));
`;

Deno.test("a project outside the checkout uses rally through deno.json links, and type-checks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rally-user-" });
  try {
    // What the README tells a user to write, with the checkout's path.
    const config = {
      imports: { "@rally/rally": "jsr:@rally/rally@^0.1.0", "zod": "npm:zod@^4.6.7" },
      links: [ROOT.pathname.replace(/\/$/, "")],
    };
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config, null, 2));
    await Deno.writeTextFile(`${dir}/main.ts`, APP);
    const deno = (...args: string[]) =>
      within(
        new Deno.Command(Deno.execPath(), {
          args,
          cwd: dir,
          env: { NO_COLOR: "1" },
          stdin: "null",
        }).output(),
        `deno ${args.join(" ")}`,
        RUN_MS,
      );
    const checked = await deno("check", "main.ts");
    assert.equal(checked.code, 0, new TextDecoder().decode(checked.stderr));
    const ran = await deno("run", "-A", "main.ts");
    const text = new TextDecoder();
    assert.equal(ran.code, 0, text.decode(ran.stderr));
    assert.deepEqual(JSON.parse(text.decode(ran.stdout)), [{ output: "hi" }, { output: "HI" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
