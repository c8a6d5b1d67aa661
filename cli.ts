/**
 * rally's command line:
 *
 * - `rally serve APP.ts [--port N] [--host H] [--parallel]` serves the App that a module
 *   default-exports (an instance, or an App class, which it instantiates);
 * - `rally dev APP.ts` serves it while you edit it: reload on change, text logs, the routes;
 * - `rally call URL [--path P] [--realtime|--ws|--stream] JSON` sends one input to an endpoint
 *   and prints the result(s);
 * - `rally openapi APP.ts` prints the App's OpenAPI document;
 * - `rally client OUT.js` writes rally's browser client as one ES module, with its source map;
 * - `rally init DIR` writes a starter project: deno.json with tasks, an App, a client, a test.
 *
 * Install it with `deno install -g -A -n rally jsr:@rally/rally/cli`.
 *
 * @example
 * ```sh
 * deno run -A cli.ts serve examples/realtime_app.ts --port 8000
 * deno run -A cli.ts call http://127.0.0.1:8000 --realtime '{"prompt":"hi"}'
 * ```
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { realtime, RealtimeError, run, stream, wsConnect } from "./client/mod.ts";
import { bundleClient } from "./server/client_module.ts";
import type { LogLevel } from "./server/middleware/log.ts";
import { binaryPaths, readBytes, type RouteInfo, routeInfo } from "./cli/call_input.ts";
import { loadApp, startupLines, UsageError } from "./cli/app.ts";
import { devCommand } from "./cli/dev.ts";
import { initCommand } from "./cli/init.ts";

const HELP = {
  rally: `Usage: rally <command> [options]

Commands:
  serve APP.ts     serve the App that a module default-exports
  dev APP.ts       serve it while you edit: reload on change, readable logs, the route table
  call URL JSON    send one input to an endpoint and print the result(s)
  openapi APP.ts   print an App's OpenAPI document
  client OUT.js    write rally's browser client as one ES module (and OUT.js.map)
  init DIR         write a starter project (deno.json with tasks, an App, a client, a test)

Run "rally <command> --help" for a command's options.`,
  serve: `Usage: rally serve APP.ts [--port N] [--host H] [--parallel]

Serves the App that APP.ts default-exports: an App instance, or an App class (instantiated).
Its setup() runs first (GET /health answers 503 until it has finished); on SIGINT or SIGTERM
open sessions and requests drain, then teardown() runs.
  --port N     port to listen on (default: $PORT, else 8000)
  --host H     address to listen on (default 0.0.0.0)
  --parallel   run "deno serve --parallel": one worker per core ($DENO_JOBS to choose), each
               with its own copy of the App. On shutdown Deno then closes sockets itself
               (close 1001, no SHUTTING_DOWN frame, no drain), and teardown() does not run.
It prints the address, the playground's URL (/docs) and the routes with their kinds, then logs
one JSON line per request, per session open and close, and per handler error (with its stack) on
stdout: $RALLY_LOG sets the level (debug, info, warn, error; default info; off for none), unless
the App sets "log". An App made with another copy of rally is served with that copy.`,
  call: `Usage: rally call URL [--path P] [--realtime | --ws | --stream] [--bytes F] [--key K] JSON

Sends one input to an endpoint of the server at URL and prints the result(s) as JSON, one per
line (bytes as base64). The endpoint's path is --path, else the URL's own path
(http://host/realtime), else / (--realtime: /realtime, as the client's realtime()).
  (no mode)    HTTP endpoint: POST JSON, print the output
  --realtime   realtime endpoint: send JSON as one input and print its output; on a streaming
               endpoint print every output until the session ends (client_streaming and bidi:
               end of input is sent after the input)
  --ws         raw WebSocket: send JSON (any text, sent as it is) as a text message, print every
               message until the server closes
  --stream     SSE endpoint: POST JSON, print each output until the stream ends
  --bytes F    the input's field F (a.b for nested) is bytes; repeatable. Fields the server's
               /openapi.json describes as binary are bytes without it. A bytes field's value is
               "@path" (the file's contents) or base64. HTTP then sends msgpack.
  --key K      API key, sent as Authorization: Key K`,
  openapi: `Usage: rally openapi APP.ts

Prints the OpenAPI 3.1 document of the App that APP.ts default-exports.`,
  client: `Usage: rally client OUT.js [--minify]

Writes rally's browser client (realtime, connect, wsConnect, run, stream, fetchToken) as one
standalone ES module to OUT.js, with its source map in OUT.js.map, for your own front end:
  import { connect } from "./rally.js";
An App can also serve it itself: app.get("/rally.js", clientModule()).
  --minify     minify the module`,
};

/**
 * Run the command line.
 *
 * @param args The arguments after the program name.
 * @returns The exit code: 0, 1 when the command failed, 2 for bad arguments.
 * @example
 * ```ts
 * import { main } from "@rally/rally/cli";
 * import { App, serve } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 * assert.equal(await main(["call", url, '{"prompt":"hi"}']), 0); // prints {"prompt":"hi"}
 * assert.equal(await main(["nope"]), 2); // bad arguments: one line on stderr
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "serve":
        return await serveCommand(rest);
      case "dev":
        return await devCommand(rest);
      case "init":
        return await initCommand(rest);
      case "call":
        return await callCommand(rest);
      case "openapi":
        return await openapiCommand(rest);
      case "client":
        return await clientCommand(rest);
      case "--help":
      case "-h":
        console.log(HELP.rally);
        return 0;
      case undefined:
        throw new UsageError(
          "expected a command: serve, dev, call, openapi, client or init (see rally --help)",
        );
      default:
        throw new UsageError(`unknown command "${command}" (see rally --help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseError(error)) {
      console.error(`rally: ${(error as Error).message}`);
      return 2;
    }
    console.error(`rally: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    port: { type: "string" },
    host: { type: "string" },
    parallel: { type: "boolean" },
  });
  if (values.help) return help("serve");
  const file = onePositional(positionals, "APP.ts");
  const port = readPort(values.port ?? Deno.env.get("PORT") ?? "8000");
  const url = pathToFileURL(resolve(file)).href;
  const { app, brand } = await loadApp(file, url);
  // `rally serve` logs by default: one JSON line per request and per session (RALLY_LOG=off
  // silences it); an App's own `log` option wins.
  const logLevel = Deno.env.get("RALLY_LOG") || "info";
  if (values.parallel) return await serveParallel(url, port, values.host, logLevel);
  app.log ??= { level: logLevel as LogLevel | "off" };
  // The App's own copy of rally serves it (it may not be this CLI's copy).
  const server = brand.serve(app, {
    port,
    hostname: values.host,
    onListen: (addr) => console.log(startupLines(app, brand, addr)),
  });
  try {
    await server.finished;
    return 0;
  } catch {
    return 1; // setup() or teardown() threw; the App's log has the error
  }
}

/** `deno serve --parallel` on a module that default-exports an instance of the App. */
async function serveParallel(
  url: string,
  port: number,
  host: string | undefined,
  logLevel: string,
): Promise<number> {
  const entry = `import app from ${JSON.stringify(url)};\n` +
    `export default typeof app === "function" ? new app() : app;\n`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "--parallel",
      "-A",
      "--port",
      String(port),
      ...(host ? ["--host", host] : []),
      `data:application/typescript,${encodeURIComponent(entry)}`,
    ],
    env: { RALLY_LOG: logLevel },
    stdin: "null",
  }).spawn();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGINT", "SIGTERM"];
  const forward = signals.map((name) => [name, () => child.kill(name)] as const);
  for (const [name, listener] of forward) Deno.addSignalListener(name, listener);
  try {
    return (await child.status).code;
  } finally {
    for (const [name, listener] of forward) Deno.removeSignalListener(name, listener);
  }
}

async function callCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    path: { type: "string" },
    realtime: { type: "boolean" },
    ws: { type: "boolean" },
    stream: { type: "boolean" },
    bytes: { type: "string", multiple: true },
    key: { type: "string" },
  });
  if (values.help) return help("call");
  const modes = (["realtime", "ws", "stream"] as const).filter((mode) => values[mode]);
  if (modes.length > 1) {
    throw new UsageError(
      `choose one of --realtime, --ws and --stream, not --${modes.join(" and --")}`,
    );
  }
  if (positionals.length !== 2) {
    throw new UsageError(`call takes URL and JSON, got ${positionals.length} arguments`);
  }
  const [url, text] = positionals;
  if (!URL.canParse(url)) throw new UsageError(`not a URL: "${url}"`);
  const mode = modes[0];
  const { base, path } = splitUrl(url, values.path, mode === "realtime" ? "/realtime" : "/");
  const key = values.key;
  if (mode === "ws") {
    await using ws = await wsConnect(base, { path, key });
    ws.send(text);
    for await (const message of ws) {
      console.log(typeof message === "string" ? message : show(message));
    }
    return 0;
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`not JSON: ${(error as Error).message}`);
  }
  const route = await routeInfo(base, path, key);
  const bytes = [...binaryPaths(route?.input), ...(values.bytes ?? [])];
  if (bytes.length > 0) input = await readBytes(input, bytes);
  if (mode === "realtime") {
    await callRealtime(base, path, key, input, route);
  } else if (mode === "stream") {
    if (bytes.length > 0) {
      throw new UsageError("--stream sends the input as JSON, which cannot carry bytes");
    }
    for await (const output of stream(base, { path, input, key })) console.log(show(output));
  } else {
    const format = bytes.length > 0 ? "msgpack" : "json";
    console.log(show(await run(base, { path, input, key, format })));
  }
  return 0;
}

/** One input to a realtime endpoint; every output of a streaming one, until the session ends. */
async function callRealtime(
  base: string,
  path: string,
  key: string | undefined,
  input: unknown,
  route: RouteInfo | undefined,
): Promise<void> {
  const mode = route?.mode ?? "unary";
  await using conn = await realtime<unknown, unknown>(base, { path, key });
  conn.send(input);
  if (mode === "client_streaming" || mode === "bidi") conn.end();
  if (mode === "unary" || mode === "client_streaming") {
    const output = await conn.receive();
    if (output === undefined) throw new Error("the session ended without an output");
    console.log(show(output));
    return;
  }
  let outputs = 0;
  for await (const output of conn) {
    console.log(show(output));
    outputs++;
  }
  if (outputs === 0) {
    throw new RealtimeError("CONNECTION_CLOSED", "the session ended without an output");
  }
}

/**
 * The base URL and the endpoint's path of `rally call`: `--path` joined to the URL; else the URL's
 * own path (`http://host/realtime`); else the mode's default.
 */
function splitUrl(
  url: string,
  path: string | undefined,
  fallback: string,
): { base: string; path: string } {
  if (path !== undefined) return { base: url, path };
  const parsed = new URL(url);
  if (parsed.pathname === "/" || parsed.pathname === "") return { base: url, path: fallback };
  const own = parsed.pathname;
  parsed.pathname = "/";
  return { base: parsed.href, path: own };
}

async function openapiCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help("openapi");
  const file = onePositional(positionals, "APP.ts");
  const { app } = await loadApp(file, pathToFileURL(resolve(file)).href);
  console.log(JSON.stringify(app.openapi(), null, 2));
  return 0;
}

async function clientCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { minify: { type: "boolean" } });
  if (values.help) return help("client");
  const output = resolve(onePositional(positionals, "OUT.js"));
  await Deno.mkdir(dirname(output), { recursive: true });
  const code = await bundleClient({ output, minify: values.minify });
  console.log(`rally: wrote ${output} (${code.length} bytes) and ${output}.map`);
  return 0;
}

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: { ...options, help: { type: "boolean", short: "h" } },
  });
}

function help(command: keyof typeof HELP): number {
  console.log(HELP[command]);
  return 0;
}

function onePositional(positionals: string[], name: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(`expected one ${name}, got ${positionals.length} arguments`);
  }
  return positionals[0];
}

function readPort(text: string): number {
  // Digits only: Number() would read "" (an empty PORT) as 0, a random port.
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`not a port: "${text}"`);
  return Number(text);
}

function isParseError(error: unknown): boolean {
  return String((error as { code?: unknown })?.code).startsWith("ERR_PARSE_ARGS_");
}

/** One value as one line of JSON, bytes as base64. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, item) => item instanceof Uint8Array ? item.toBase64() : item);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
