/**
 * Two checks on the source itself, run with the suite so that they cannot drift:
 *
 * - no runtime import cycle: the module graph of every public entry point (from
 *   `deno info --json`), following only imports that exist at run time (`import type` is
 *   erased, so a cycle through one is harmless), has no cycle;
 * - the client is browser-safe: no `Deno` global and no `node:` import in `client/` nor in
 *   anything the client imports at run time (its `internal/` modules, `codec.ts`,
 *   `protocol.ts`), and nothing from `server/`.
 *
 * Each check is first shown to catch a planted defect, so that it cannot pass by accident.
 *
 * @module
 */
import assert from "node:assert/strict";
import browserSafe from "./_browser_safe.ts";
import { ROOT } from "./_helpers.ts";

/** The public entry points, as deno.json exports them. */
const ENTRY_POINTS = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)))
  .exports as Record<
    string,
    string
  >;

/** One module of `deno info --json` (the fields read here). */
interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
}

/** The runtime edges of the graph rooted at `root`: module → modules it imports at run time. */
async function runtimeGraph(root: URL): Promise<Map<string, string[]>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root.href],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `deno info ${root.href} failed: ${stderr}`);
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
  const graph = new Map<string, string[]>();
  for (const module of info.modules) {
    const edges = (module.dependencies ?? [])
      .filter((dependency) => dependency.code !== undefined && !dependency.isDynamic)
      .map((dependency) => dependency.code!.specifier);
    graph.set(module.specifier, edges);
  }
  return graph;
}

/**
 * Find a cycle among the graph's local (`file:`) modules.
 *
 * @returns The modules of one cycle, first repeated at the end; `undefined` when there is none.
 */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (module: string): string[] | undefined => {
    if (onPath.has(module)) return [...path.slice(path.indexOf(module)), module];
    if (done.has(module) || !module.startsWith("file:")) return undefined;
    path.push(module);
    onPath.add(module);
    for (const next of graph.get(module) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(module);
    done.add(module);
    return undefined;
  };
  for (const module of graph.keys()) {
    const cycle = visit(module);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A module's path relative to the repository, for messages. */
function relative(specifier: string): string {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;
}

Deno.test("module graph: the cycle check finds a planted runtime cycle, not a type-only one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rally_graph_" });
  try {
    const write = (name: string, text: string) => Deno.writeTextFile(`${dir}/${name}`, text);
    await write("a.ts", 'import { b } from "./b.ts";\nexport const a = () => b;\n');
    await write("b.ts", 'import { a } from "./a.ts";\nexport const b = () => a;\n');
    await write(
      "c.ts",
      'import type { D } from "./d.ts";\nexport type C = D;\nexport const c = 1;\n',
    );
    await write(
      "d.ts",
      'import { c } from "./c.ts";\nexport type D = number;\nexport const d = c;\n',
    );
    const planted = findCycle(await runtimeGraph(new URL(`file://${dir}/a.ts`)));
    assert.deepEqual(planted?.map((m) => m.split("/").at(-1)), ["a.ts", "b.ts", "a.ts"]);
    assert.equal(findCycle(await runtimeGraph(new URL(`file://${dir}/d.ts`))), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("module graph: no runtime import cycle from any public entry point", async () => {
  for (const [name, path] of Object.entries(ENTRY_POINTS)) {
    const cycle = findCycle(await runtimeGraph(new URL(path, ROOT)));
    assert.equal(
      cycle,
      undefined,
      `Cannot load export "${name}" without an import cycle: ${
        cycle?.map(relative).join(" -> ")
      }; ` +
        "move the shared part into a module both import, or import only types (import type)",
    );
  }
});

/**
 * Every module under client/, and every local module the client reaches at run time (from
 * internal/, codec.ts, protocol.ts): internal/ modules only the CLI uses may use Deno.
 */
async function clientModules(): Promise<string[]> {
  const graph = await runtimeGraph(new URL("client/mod.ts", ROOT));
  const modules = new Set([...graph.keys()].filter((m) => m.startsWith("file:")));
  for await (const entry of Deno.readDir(new URL("client/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      modules.add(new URL(`client/${entry.name}`, ROOT).href);
    }
  }
  for (const file of ["codec.ts", "protocol.ts"]) modules.add(new URL(file, ROOT).href);
  return [...modules].sort();
}

/** What the browser-safe lint plugin reports for one source text. */
function browserProblems(fileName: string, source: string): string[] {
  return Deno.lint.runPlugin(browserSafe, fileName, source).map((d) => {
    const line = source.slice(0, d.range[0]).split("\n").length;
    return `${fileName}:${line}: ${d.message}`;
  });
}

Deno.test("module graph: the browser-safe check finds planted Deno and node: uses, not doc examples", () => {
  const planted = [
    '/** ```ts\n * Deno.serve(() => new Response());\n * import "node:fs";\n * ```\n */',
    'import { readFile } from "node:fs/promises";',
    'export { join } from "node:path";',
    'const env = Deno.env.get("X");',
    'const deno = globalThis["Deno"];',
    'const os = await import("node:os");',
    'const text = "Deno.exit() in a string is fine";',
  ].join("\n");
  assert.deepEqual(
    browserProblems("planted.ts", planted).map((p) => Number(p.split(":")[1])),
    [6, 7, 8, 9, 10],
  );
});

Deno.test("module graph: the client and what it imports are browser-safe", async () => {
  const problems: string[] = [];
  const modules = await clientModules();
  for (const path of ["internal/inbox.ts", "codec.ts", "protocol.ts"]) {
    assert.ok(modules.includes(new URL(path, ROOT).href), `the check reads ${path}`);
  }
  for (const module of modules) {
    const path = relative(module);
    if (path.startsWith("server/")) problems.push(`${path}: the client imports the server`);
    problems.push(...browserProblems(path, await Deno.readTextFile(new URL(module))));
  }
  assert.deepEqual(problems, [], "client/ must run in a browser: no Deno.*, no node:*");
});
