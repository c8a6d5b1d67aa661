/**
 * `rally dev APP.ts`: serve an App while you edit it. It runs itself again under Deno's own
 * watcher (`deno run --watch`), which restarts the server when a file of the App's module graph
 * changes; the served copy prints the route table once listening and logs in text, one line per
 * request and per session (see `server/dev_log.ts`), errors with their stack.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { App } from "../server/app.ts";
import { readDocsPath } from "../server/docs/playground.ts";
import { devLog } from "../server/dev_log.ts";
import type { LogLevel, LogOptions } from "../server/middleware/log.ts";
import { serve } from "../server/serve.ts";

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

/** How the route table names each kind of route. */
const KIND_NAMES: Record<string, string> = {
  endpoint: "HTTP endpoint (POST)",
  stream: "SSE stream (POST)",
  realtime: "realtime (WebSocket)",
  websocket: "raw WebSocket",
  webrtc: "WebRTC signaling",
  get: "GET route",
};

/** Bad arguments to `rally dev`: one line on stderr, exit code 2. */
class DevUsageError extends Error {}

/**
 * Run `rally dev` with its arguments (those after `dev`).
 *
 * @param args The arguments.
 * @returns The exit code: the served process's, or 2 for bad arguments.
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
  let values;
  let file: string;
  try {
    ({ values, file } = readArgs(args));
  } catch (error) {
    if (!(error instanceof DevUsageError) && !isParseError(error)) throw error;
    console.error(`rally: ${(error as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(DEV_HELP);
    return 0;
  }
  const port = values.port ?? Deno.env.get("PORT") ?? "8000";
  const host = values.host ?? "127.0.0.1";
  if (values.child) return await serveForDev(file, Number(port), host);
  const watch = values.watch ? `--watch=${values.watch}` : "--watch";
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
    throw new DevUsageError(`expected one APP.ts, got ${positionals.length} arguments`);
  }
  const port = values.port ?? Deno.env.get("PORT");
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535)) {
    throw new DevUsageError(`not a port: "${port}"`);
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
    const app = await loadApp(file);
    const own = app.log;
    if (own !== false) {
      const options: LogOptions = typeof own === "object" ? own : {};
      const level = options.level ?? (Deno.env.get("RALLY_LOG") || "info") as LogLevel | "off";
      app.log = { level, sink: options.sink ?? devLog() };
    }
    // No signal handlers: Ctrl-C ends the process at once, watcher included (after a drain the
    // watcher would wait for a file change).
    const server = serve(app, {
      port,
      hostname,
      signals: false,
      onListen: (addr) => console.log(routeTable(app, addr)),
    });
    await server.finished;
    return 0;
  } catch (error) {
    console.error(`rally: ${error instanceof Error ? error.stack ?? error.message : error}`);
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

/**
 * What `rally dev` prints once listening: the address, each route with its kind, the playground.
 *
 * @param app The App.
 * @param addr Where it listens.
 * @returns The lines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { App } from "../server/app.ts";
 * import { routeTable } from "./dev.ts";
 *
 * const app = new App({ name: "demo", docs: false });
 * const text = routeTable(app, { transport: "tcp", hostname: "127.0.0.1", port: 8000 });
 * assert.equal(text, "rally: serving demo on http://127.0.0.1:8000/");
 * ```
 */
export function routeTable(app: App, addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const base = `http://${host}:${addr.port}`;
  const routes = routesOf(app);
  const width = Math.max(0, ...routes.map((route) => route.path.length));
  const lines = routes.map(({ kind, path }) =>
    `  ${path.padEnd(width)}  ${KIND_NAMES[kind] ?? kind}`
  );
  const docs = readDocsPath(app.docs);
  return [
    `rally: serving ${app.name} on ${base}/`,
    ...lines,
    ...(docs ? [`  playground: ${base}${docs}`] : []),
  ].join("\n");
}

/** Kind and path of each route, as the App's brand tells them. */
function routesOf(app: App): { kind: string; path: string }[] {
  const brand = (app as unknown as Record<symbol, { routes?(app: unknown): unknown } | undefined>)[
    Symbol.for("rally.app")
  ];
  return (brand?.routes?.(app) as { kind: string; path: string }[] | undefined) ?? [];
}

/** The App a module default-exports: an instance, or an App class, instantiated. */
async function loadApp(file: string): Promise<App> {
  const exported = (await import(pathToFileURL(resolve(file)).href)).default;
  if (exported instanceof App) return exported;
  if (typeof exported === "function" && exported.prototype instanceof App) return new exported();
  throw new Error(
    `Cannot serve ${basename(file)}: it must \`export default\` an App instance or an App class`,
  );
}

function isParseError(error: unknown): boolean {
  return String((error as { code?: unknown })?.code).startsWith("ERR_PARSE_ARGS_");
}
