/**
 * Every TypeScript block of the README type-checks as written (issue 16, item 15), or says on its
 * first line that it is a fragment (`// Fragment: ...`). The blocks are written to a temporary
 * project that reaches rally as a user's would (`links`, see "In your own project"), and checked
 * with one `deno check`.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { within } from "./_realtime_helpers.ts";

const CHECK_MS = 120_000;

/** The README's TypeScript blocks, with the line each starts on. */
async function readmeBlocks(): Promise<{ line: number; code: string }[]> {
  const text = await Deno.readTextFile(new URL("README.md", ROOT));
  const blocks: { line: number; code: string }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== "```") end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

Deno.test("README: every TypeScript block type-checks, or says it is a fragment", async () => {
  const blocks = await readmeBlocks();
  const checked = blocks.filter((block) => !block.code.startsWith("// Fragment"));
  assert.ok(checked.length >= 4, `only ${checked.length} blocks are checked`);
  const dir = await Deno.makeTempDir({ prefix: "rally-readme-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: { "@rally/rally": "jsr:@rally/rally@^0.1.0", "zod": "npm:zod@^4.6.7" },
        links: [ROOT.pathname.replace(/\/$/, "")],
      }),
    );
    const files = checked.map((block) => `readme_line_${block.line}.ts`);
    for (const [i, block] of checked.entries()) {
      await Deno.writeTextFile(`${dir}/${files[i]}`, block.code);
    }
    // A broken block must fail, or this test could not.
    await Deno.writeTextFile(`${dir}/broken.ts`, 'const n: number = "not a number";\n');
    const { stderr } = await within(
      new Deno.Command(Deno.execPath(), {
        args: ["check", ...files, "broken.ts"],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output(),
      "deno check of the README's blocks",
      CHECK_MS,
    );
    const output = new TextDecoder().decode(stderr);
    const failing = [...output.matchAll(/at file:\/\/\S+\/(\S+?\.ts):\d+/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(failing)], ["broken.ts"], output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
