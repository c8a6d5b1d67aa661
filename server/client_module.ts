/**
 * rally's browser client as one standalone ES module, built by `deno bundle` (esbuild
 * underneath) from `client/mod.ts` of this copy of rally: {@link bundleClient} writes it to a
 * file with its source map (`rally client OUT.js`), and {@link clientModule} is a GET handler
 * with which an App serves it itself (`app.get("/rally.js", clientModule())`). No CDN: the page
 * imports `/rally.js` from the App.
 *
 * @module
 */
import { VERSION } from "../protocol.ts";
import { bundleForBrowsers } from "./bundle.ts";
import type { GetHandler } from "./get.ts";

/**
 * Options of {@link bundleClient}.
 *
 * @example
 * ```ts
 * import { bundleClient, type BundleClientOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const options: BundleClientOptions = { output: `${dir}/rally.js`, minify: true };
 * await bundleClient(options);
 * assert.ok((await Deno.stat(`${dir}/rally.js.map`)).isFile); // the source map goes next to it
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface BundleClientOptions {
  /** Where to write the module; its source map goes next to it (`OUT.js.map`). Default: none, the
   * module is returned (without a source map). */
  output?: string | URL;
  /** Minify the module. Default false. */
  minify?: boolean;
}

/**
 * Bundle rally's client for browsers: one ES module with `realtime`, `connect`, `wsConnect`,
 * `run`, `stream`, `fetchToken` and the error classes, and nothing of the server.
 *
 * @param options Where to write it, and whether to minify.
 * @returns The module's JavaScript (read back from `output` when one is given).
 * @throws {Error} with `deno bundle`'s output when it fails.
 * @example
 * ```ts
 * import { bundleClient } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const js = await bundleClient();
 * assert.match(js, /realtime/);
 * ```
 */
export function bundleClient(options: BundleClientOptions = {}): Promise<string> {
  const { entry, config, cwd } = clientEntry();
  const output = options.output instanceof URL ? options.output.pathname : options.output;
  return bundleForBrowsers(entry, {
    config,
    cwd,
    minify: options.minify,
    output,
    what: "rally's client",
  });
}

/**
 * Options of {@link clientModule}.
 *
 * @example
 * ```ts
 * import { App, clientModule, type ClientModuleOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const options: ClientModuleOptions = { minify: true };
 * const app = new App().get("/rally.js", clientModule(options));
 * const response = await app.fetch(new Request("http://localhost/rally.js"));
 * assert.equal(response.status, 200);
 * await response.body?.cancel();
 * ```
 */
export interface ClientModuleOptions {
  /** Minify the module. Default false (readable in the browser's developer tools). */
  minify?: boolean;
}

/**
 * A GET handler that serves rally's browser client as an ES module: bundled on the first
 * request (about half a second; `deno bundle` runs in a child process, so the App needs
 * `--allow-run`) and kept in memory.
 *
 * @param options Whether to minify.
 * @returns The handler, for `app.get(path, handler)`.
 * @example
 * ```ts
 * import { App, clientModule } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const app = new App().get("/rally.js", clientModule());
 * // In the page: <script type="module">import { connect } from "/rally.js"; ...</script>
 * const response = await app.fetch(new Request("http://localhost/rally.js"));
 * assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
 * assert.match(await response.text(), /export/);
 * ```
 */
export function clientModule(options: ClientModuleOptions = {}): GetHandler {
  let built: Promise<string> | undefined;
  return async () => {
    built ??= bundleClient({ minify: options.minify });
    let code: string;
    try {
      code = await built;
    } catch (error) {
      built = undefined; // try again on the next request
      throw error;
    }
    return new Response(code, {
      headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
    });
  };
}

/** The client's entry for `deno bundle`: this copy's `client/mod.ts` with its `deno.json`, or
 * the published package when this copy is not on disk. */
function clientEntry(): { entry: string; config?: string; cwd?: string } {
  const here = new URL("../client/mod.ts", import.meta.url);
  if (here.protocol === "file:") {
    // Run from the copy's root: the bundle heads each module with its path from there.
    const root = new URL("../", import.meta.url).pathname;
    return { entry: here.pathname, config: `${root}deno.json`, cwd: root };
  }
  return { entry: `jsr:@rally/rally@${VERSION}/client` };
}
