/**
 * `rally dev APP.ts`: serve an App while you edit it. It runs itself again under Deno's own
 * watcher (`deno run --watch`), which restarts the server when a file of the App's module graph
 * changes; the served copy prints the route table once listening and logs in text, one line per
 * request and per session (see `server/dev_log.ts`), errors with their stack.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { devLog } from "../server/dev_log.ts";
import type { LogLevel, LogOptions } from "../server/middleware/log.ts";
import { loadApp, startupLines, UsageError } from "./app.ts";

/** `rally dev --help`. */
export const DEV_HELP = `Usage: rally dev APP.ts [--port N] [--host H] [--watch PATHS]

Serves the App that APP.ts default-exports while you edit it: the server restarts when a file
that APP.ts imports changes (Deno's "deno run --watch"). It prints the routes with their kinds and
the playground's URL, then one line per request ("POST / 200 1.2ms"), per session opened and
closed, and per handler error with its stack. A restart stops the server at once (no drain, no
teardown()); Ctrl-C stops it.
  --port N        port to listen on (default: $PORT, else 8000)
  --host H        address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
  --watch PATHS   more files or folders to watch, comma-separated (templates, data files)
$RALLY_LOG sets the level (debug, info, warn, error; default info; off for none), unless the App
sets "log".`;

/**
 * Run `rally dev` with its arguments (those after `dev`).
 *
 * @param args The arguments.
 * @returns The exit code: the served process's.
 * @throws {UsageError} for bad arguments.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { devCommand } from "./dev.ts";
 *
 * // `rally dev main.ts --port 8000` serves main.ts until Ctrl-C; --help only prints.
 * assert.equal(await devCommand(["--help"]), 0);
 * ```
 */
export async function devCommand(args: string[]): Promise<number> {
  const { values, file } = readArgs(args);
  if (values.help) {
    console.log(DEV_HELP);
    return 0;
  }
  const port = values.port ?? Deno.env.get("PORT") ?? "8000";
  const host = values.host ?? "127.0.0.1";
  if (values.child) return await serveForDev(file, Number(port), host);
  // The App's file is named, not only found in the module graph: it is imported dynamically,
  // and Deno's watcher picks such a file up only after it has loaded, a moment after the
  // process printed that it waits for a change to it.
  const watched = [resolve(file), ...(values.watch ? [values.watch] : [])];
  const watch = `--watch=${watched.join(",")}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      watch,
      "--no-clear-screen",
      "-A",
      cliSpecifier(import.meta.url),
      "dev",
      file,
      "--child",
      "--port",
      port,
      "--host",
      host,
    ],
    // The served process ends when this one does, even on SIGKILL: its stdin closes.
    stdin: "piped",
  }).spawn();
  // Ctrl-C reaches both processes; a SIGTERM sent to this one alone is passed on.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGINT", "SIGTERM"];
  const forward = signals.map((name) => [name, () => child.kill("SIGTERM")] as const);
  for (const [name, listener] of forward) Deno.addSignalListener(name, listener);
  try {
    const status = await child.status;
    return status.signal ? 0 : status.code;
  } finally {
    for (const [name, listener] of forward) Deno.removeSignalListener(name, listener);
  }
}

function readArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      watch: { type: "string" },
      child: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { values, file: "" };
  if (positionals.length !== 1) {
    throw new UsageError(`expected one APP.ts, got ${positionals.length} arguments`);
  }
  const port = values.port ?? Deno.env.get("PORT");
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535)) {
    throw new UsageError(`not a port: "${port}"`);
  }
  return { values, file: positionals[0] };
}

/**
 * The module to run again under the watcher: this copy's `cli.ts`. From JSR
 * (`https://jsr.io/@rally/rally/0.1.0/cli/dev.ts`) it is `jsr:@rally/rally@0.1.0/cli`, so that
 * the package's own imports apply; from a checkout or any other URL, the file next door.
 *
 * @param here This module's URL.
 * @returns The specifier for `deno run`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cliSpecifier } from "./dev.ts";
 *
 * assert.equal(
 *   cliSpecifier("https://jsr.io/@rally/rally/0.1.0/cli/dev.ts"),
 *   "jsr:@rally/rally@0.1.0/cli",
 * );
 * assert.equal(cliSpecifier("file:///src/rally/cli/dev.ts"), "file:///src/rally/cli.ts");
 * ```
 */
export function cliSpecifier(here: string): string {
  const jsr = /^https:\/\/jsr\.io\/(@[^/]+\/[^/]+)\/([^/]+)\/cli\/dev\.ts$/.exec(here);
  if (jsr) return `jsr:${jsr[1]}@${jsr[2]}/cli`;
  return new URL("../cli.ts", here).href;
}

/**
 * The watched process: load the App, log in text, print the route table, serve until killed. A
 * module that fails to load, a port in use or a failed setup() is printed, and the process waits
 * for the file change that fixes it.
 */
async function serveForDev(file: string, port: number, hostname: string): Promise<number> {
  const parentGone = endWithParent();
  try {
    const { app, brand } = await loadApp(file, pathToFileURL(resolve(file)).href);
    const own = app.log as boolean | LogOptions | undefined;
    if (own !== false) {
      const options: LogOptions = typeof own === "object" ? own : {};
      const level = options.level ?? (Deno.env.get("RALLY_LOG") || "info") as LogLevel | "off";
      app.log = { level, sink: options.sink ?? devLog() };
    }
    // The App's own copy of rally serves it (it may not be this CLI's copy). No signal handlers:
    // Ctrl-C ends the process at once, watcher included (after a drain the watcher would wait for
    // a file change).
    const server = brand.serve(app, {
      port,
      hostname,
      signals: false,
      onListen: (addr) => console.log(startupLines(app, brand, addr)),
    });
    await server.finished;
    return 0;
  } catch (error) {
    const known = error instanceof UsageError || !(error instanceof Error);
    console.error(`rally: ${known ? String((error as Error)?.message ?? error) : error.stack}`);
    console.error("rally: waiting for a file change (Ctrl-C to stop)");
    return await parentGone;
  }
}

/**
 * End this process, watcher included, when `rally dev`'s process has gone: its end of our stdin
 * closes. (`Deno.exit()` would end only this run: the watcher would wait for a file change.)
 */
async function endWithParent(): Promise<never> {
  for await (const _ of Deno.stdin.readable) { /* rally dev writes nothing */ }
  Deno.kill(Deno.pid, "SIGKILL");
  return await new Promise<never>(() => {});
}
