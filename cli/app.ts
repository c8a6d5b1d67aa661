/**
 * What `rally serve` and `rally dev` share: loading the App a module default-exports (by its
 * brand, whichever copy of rally made it), the lines printed once it listens, and the error for
 * bad arguments.
 *
 * @module
 */
import { type AppBrand, brandOf } from "../server/brand.ts";
import { readDocsPath } from "../server/docs/playground.ts";

/** Bad command-line arguments: `rally` prints the message on one line and exits with code 2. */
export class UsageError extends Error {}

/** What the CLI uses of an App, whichever copy of rally made it. */
export interface ServedApp {
  /** The App's name. */
  name: string;
  /** Its `log` option. */
  log?: unknown;
  /** The playground's path (`true` or unset: `/docs`), or `false` for none. */
  docs?: boolean | string;
  /** Its OpenAPI document. */
  openapi(): unknown;
}

/**
 * The App a module default-exports (an instance, or an App class, instantiated), known by its
 * brand, so that an App made with another copy of rally is served with that copy.
 *
 * @param file The module's path as the user wrote it (for messages).
 * @param url The module's URL.
 * @returns The App and the brand of the copy of rally that made it.
 * @throws {UsageError} when the module does not default-export an App.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadApp, UsageError } from "./app.ts";
 *
 * // A module whose default export is no App.
 * const url = "data:text/javascript,export default 42";
 * await assert.rejects(loadApp("app.ts", url), UsageError);
 * ```
 */
export async function loadApp(
  file: string,
  url: string,
): Promise<{ app: ServedApp; brand: AppBrand }> {
  const exported = (await import(url)).default;
  const found = brandOf(exported);
  if (found) {
    const app = found.isClass ? new (exported as new () => ServedApp)() : exported as ServedApp;
    return { app, brand: found.brand };
  }
  if (looksLikeApp(exported)) {
    throw new UsageError(
      `${file} default-exports an App from a copy of rally without the brand this CLI knows ` +
        `(Symbol.for("rally.app"), rally 0.1.0 and later): serve it with the CLI of the copy it ` +
        `imports, e.g. deno run -A <that copy>/cli.ts serve ${file}`,
    );
  }
  throw new UsageError(`${file} must \`export default\` an App instance or an App class`);
}

/** An object with an App's surface (`fetch`, `openapi`) but no brand: an older copy's App. */
function looksLikeApp(value: unknown): boolean {
  const candidate = typeof value === "function"
    ? (value as { prototype?: unknown }).prototype
    : value;
  return typeof (candidate as { openapi?: unknown } | null)?.openapi === "function";
}

/**
 * What `rally serve` and `rally dev` print once listening: the address and the playground's URL
 * (when it is on), then each route with its method and kind.
 *
 * @param app The App.
 * @param brand The brand of the copy of rally that made it.
 * @param addr Where it listens.
 * @returns The lines, joined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { App } from "../server/app.ts";
 * import { brandOf } from "../server/brand.ts";
 * import { startupLines } from "./app.ts";
 *
 * const app = new App({ name: "demo", docs: false }).endpoint("/", {}, () => "hi");
 * const addr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 8000 };
 * assert.equal(
 *   startupLines(app, brandOf(app)!.brand, addr),
 *   "rally: serving demo on http://127.0.0.1:8000/\n  POST /  HTTP endpoint",
 * );
 * ```
 */
export function startupLines(app: ServedApp, brand: AppBrand, addr: Deno.NetAddr): string {
  const base = `http://${addr.hostname}:${addr.port}`;
  const routes = brand.routes(app);
  const width = Math.max(0, ...routes.map((route) => route.path.length));
  const lines = routes.map(({ kind, path }) => {
    const method = kind === "endpoint" || kind === "stream" ? "POST" : "GET ";
    return `  ${method} ${path.padEnd(width)}  ${KIND_NAMES[kind] ?? kind}`;
  });
  const docs = readDocsPath(app.docs);
  const playground = docs ? ` (playground: ${base}${docs})` : "";
  return [`rally: serving ${app.name} on ${base}/${playground}`, ...lines].join("\n");
}

/** How the startup lines name each kind of route. */
const KIND_NAMES: Record<string, string> = {
  endpoint: "HTTP endpoint",
  stream: "SSE stream",
  realtime: "realtime (WebSocket)",
  websocket: "raw WebSocket",
  webrtc: "WebRTC signaling",
  get: "GET route",
};
