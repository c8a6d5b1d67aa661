/**
 * rally's command line: `rally serve app.ts [--port N] [--host H]` serves the App that a module
 * default-exports (port also from `PORT`, default 8000).
 *
 * @example
 * ```sh
 * deno run -A cli.ts serve examples/realtime_app.ts --port 8000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { App } from "./server/app.ts";
import { serve } from "./server/serve.ts";

const USAGE = `Usage: rally serve <app.ts> [--port N] [--host H]

Serves the App that the module default-exports.
  --port N   port to listen on (default: $PORT, else 8000)
  --host H   address to listen on (default 0.0.0.0)`;

/**
 * Run the command line.
 *
 * @param args The arguments after the program name.
 * @returns The exit code (the process exits when the server stops).
 * @example
 * ```ts
 * import { main } from "@rally/rally/cli";
 * const code = await main(["serve", "examples/realtime_app.ts", "--port", "8000"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, file] = positionals;
  if (values.help || command !== "serve" || !file) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const portText = values.port ?? Deno.env.get("PORT") ?? "8000";
  const port = Number(portText);
  // Digits only: Number() would read "" (an empty PORT) as 0, a random port.
  if (!/^\d+$/.test(portText) || port > 65535) {
    console.error(`rally: not a port: "${portText}"`);
    return 2;
  }
  const module = await import(pathToFileURL(resolve(file)).href);
  const app = module.default;
  if (!(app instanceof App)) {
    console.error(`rally: ${file} must \`export default\` an App instance`);
    return 2;
  }
  const server = serve(app, { port, hostname: values.host });
  await server.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
