/**
 * `rally init DIR`: write a starter project (see `starter.ts`) into a new or empty folder. Run
 * from a checkout of rally, the project `links` to that checkout, so that it works with no JSR;
 * run from JSR, it imports `jsr:@rally/rally`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./app.ts";
import { type RallySource, starterFiles } from "./starter.ts";

/** `rally init --help`. */
export const INIT_HELP = `Usage: rally init DIR

Writes a starter project into DIR (made if missing; it must be empty):
  deno.json      rally and zod as imports; tasks dev, start, client and test
  main.ts        an App with an HTTP endpoint (POST /) and a realtime endpoint (/realtime)
  client.ts      calls both endpoints of the running App
  main_test.ts   tests both endpoints in memory with testClient(app) ("deno task test")
  README.md
Run from a checkout of rally, deno.json "links" to that checkout (nothing is fetched from JSR);
otherwise it imports jsr:@rally/rally.`;

/**
 * Run `rally init` with its arguments (those after `init`).
 *
 * @param args The arguments.
 * @returns The exit code, 0.
 * @throws {UsageError} for bad arguments.
 * @throws {Error} when DIR is a file or a folder that is not empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initCommand } from "./init.ts";
 *
 * // `rally init my-app` writes the project; --help only prints.
 * assert.equal(await initCommand(["--help"]), 0);
 * ```
 */
export async function initCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(INIT_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`expected one DIR, got ${positionals.length} arguments`);
  }
  const dir = resolve(positionals[0]);
  await emptyFolder(positionals[0], dir);
  const files = starterFiles(projectName(dir), await rallySource(import.meta.url));
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text, { createNew: true });
  }
  console.log(`rally: wrote ${Object.keys(files).join(", ")} in ${dir}
Next:
  cd ${positionals[0]}
  deno task dev      # serve main.ts on http://127.0.0.1:8000 and reload on change
  deno task client   # in another shell: call both endpoints
  deno task test     # run main_test.ts`);
  return 0;
}

/**
 * Where a project made by this copy of rally gets rally: from a checkout (a `file:` URL with
 * rally's `deno.json` two levels up), a `links` entry to it; otherwise JSR.
 *
 * @param here This module's URL.
 * @returns The source.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rallySource } from "./init.ts";
 *
 * assert.deepEqual(await rallySource("https://jsr.io/@rally/rally/0.1.0/cli/init.ts"), {});
 * ```
 */
export async function rallySource(here: string): Promise<RallySource> {
  if (!here.startsWith("file:")) return {};
  const root = fileURLToPath(new URL("../", here)).replace(/[\\/]$/, "");
  try {
    const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
    return config.name === "@rally/rally" ? { link: root } : {};
  } catch {
    return {}; // no deno.json next door: not a checkout
  }
}

/** Make `dir` if missing; refuse a file, or a folder with anything in it. */
async function emptyFolder(given: string, dir: string): Promise<void> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (info === undefined) {
    await Deno.mkdir(dir, { recursive: true });
    return;
  }
  if (!info.isDirectory) {
    throw new Error(`Cannot init ${given}: it is a file. Name a new folder: rally init my-app`);
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  if (names.length > 0) {
    const shown = names.sort().slice(0, 3).join(", ") + (names.length > 3 ? ", ..." : "");
    throw new Error(
      `Cannot init ${given}: the folder is not empty (${shown}). Name a new or empty folder ` +
        `(rally init ${join(given, "my-app")}), or move its files away first`,
    );
  }
}

/** The App's name: the folder's name, as lowercase letters, digits and dashes. */
function projectName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return name || "app";
}
