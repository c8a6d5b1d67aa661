/**
 * The public API's documentation cannot drift from the code: every symbol a user can import
 * from a public entry point (and every public method and accessor of an exported class) has an
 * `@example`,
 * and every example asserts its results (`node:assert/strict`, as std's do) instead of printing
 * them. The examples themselves run in `deno task test` (`deno test --doc`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

/** The public entry points whose symbols are checked (the CLI is a program, not an API). */
const ENTRY_POINTS = [
  "mod.ts",
  "server/mod.ts",
  "client/mod.ts",
  "codec.ts",
  "protocol.ts",
  "testing/mod.ts",
];

/** The fields of `deno doc --json` read here. */
interface DocTag {
  kind: string;
  doc?: string;
}
interface DocLocation {
  filename: string;
  line: number;
}
interface DocMethod {
  name: string;
  kind: string;
  accessibility?: string;
  isStatic?: boolean;
  jsDoc?: { tags?: DocTag[] };
  location: DocLocation;
}
interface DocDeclaration {
  kind: string;
  location: DocLocation;
  jsDoc?: { tags?: DocTag[] };
  def?: { target?: DocLocation; methods?: DocMethod[] };
}
interface DocNode {
  symbols?: { name: string; declarations: DocDeclaration[] }[];
}

/** `deno doc --json` of some modules. */
async function denoDoc(paths: string[]): Promise<Record<string, DocNode>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...paths],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)).nodes;
}

/** Every local TypeScript module the entry points may re-export from. */
async function sourceModules(): Promise<string[]> {
  const paths = ["mod.ts", "codec.ts", "protocol.ts", "route_types.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      if (entry.isDirectory) await walk(`${dir}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) paths.push(`${dir}${entry.name}`);
    }
  };
  for (const dir of ["server/", "client/", "internal/", "testing/"]) await walk(dir);
  return paths;
}

/** One documented thing a user can reach, with its examples. */
interface Documented {
  name: string;
  where: string;
  examples: string[];
}

/** The symbols reachable from the entry points, re-exports resolved to their declarations. */
async function publicSymbols(): Promise<Documented[]> {
  const all = await denoDoc(await sourceModules());
  const byLocation = new Map<string, DocDeclaration>();
  for (const node of Object.values(all)) {
    for (const symbol of node.symbols ?? []) {
      for (const declaration of symbol.declarations) {
        const { filename, line } = declaration.location;
        byLocation.set(`${filename}:${line}`, declaration);
      }
    }
  }
  const resolve = (declaration: DocDeclaration): DocDeclaration => {
    for (let hops = 0; declaration.kind === "reference" && hops < 10; hops++) {
      const target = declaration.def?.target;
      const next = target && byLocation.get(`${target.filename}:${target.line}`);
      assert.ok(next, `Cannot resolve a re-export to ${JSON.stringify(target)}`);
      declaration = next;
    }
    return declaration;
  };
  const examples = (tags: DocTag[] = []) =>
    tags.filter((tag) => tag.kind === "example").map((tag) => tag.doc ?? "");
  const entries = await denoDoc(ENTRY_POINTS);
  const found = new Map<string, Documented>();
  for (const node of Object.values(entries)) {
    for (const symbol of node.symbols ?? []) {
      for (const declaration of symbol.declarations.map(resolve)) {
        const { filename, line } = declaration.location;
        const where = `${filename.slice(ROOT.href.length)}:${line}`;
        found.set(where, {
          name: symbol.name,
          where,
          examples: examples(declaration.jsDoc?.tags),
        });
        if (declaration.kind !== "class") continue; // members of a class are API too
        for (const method of declaration.def?.methods ?? []) {
          if (method.accessibility === "private" || method.name.startsWith("#")) continue;
          const at = `${method.location.filename.slice(ROOT.href.length)}:${method.location.line}`;
          found.set(at, {
            name: `${symbol.name}${method.isStatic ? "." : ".prototype."}${method.name}`,
            where: at,
            examples: examples(method.jsDoc?.tags),
          });
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.where.localeCompare(b.where));
}

const symbols = await publicSymbols();

Deno.test("docs: the check sees the public API (App, serve, realtime, Codec, VERSION, ...)", () => {
  const names = new Set(symbols.map((symbol) => symbol.name));
  for (const name of ["App", "App.prototype.openapi", "serve", "realtime", "Codec", "VERSION"]) {
    assert.ok(names.has(name), `${name} is public`);
  }
  assert.ok(symbols.length > 80, `${symbols.length} public symbols`);
});

Deno.test("docs: every public symbol and method has an @example", () => {
  const missing = symbols.filter((symbol) => symbol.examples.length === 0);
  assert.deepEqual(
    missing.map((symbol) => `${symbol.name} (${symbol.where})`),
    [],
    "add an @example that runs under deno test --doc to each of these",
  );
});

Deno.test("docs: every example asserts its results instead of printing them", () => {
  const printing = symbols.flatMap((symbol) =>
    symbol.examples
      .filter((example) => !/^```\w+ ignore/.test(example))
      .filter((example) => /console\.(log|info|dir)\(/.test(example) || !/\bassert\b/.test(example))
      .map(() => `${symbol.name} (${symbol.where})`)
  );
  assert.deepEqual(printing, [], "assert with node:assert/strict instead of printing");
});
