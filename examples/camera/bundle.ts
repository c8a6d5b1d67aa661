/**
 * Browser bundles built with `deno bundle` (esbuild underneath) into memory: the camera App
 * serves rally's client (`client/mod.ts`) bundled this way as `/rally.js`. No CDN, no file on
 * disk.
 *
 * @module
 */

/** The repository's `deno.json`: the bundles resolve npm packages through its imports. */
const CONFIG = new URL("../../deno.json", import.meta.url);

/**
 * Bundle a module for browsers with `deno bundle --platform browser`, in a child process.
 *
 * @param entry The module.
 * @param options `minify` shrinks the output.
 * @returns The bundle's JavaScript (an ES module).
 * @throws {Error} with `deno bundle`'s output when it fails.
 * @example
 * ```ts
 * import { bundle } from "./bundle.ts";
 *
 * const js = await bundle(new URL("../../client/mod.ts", import.meta.url));
 * console.log(js.length);
 * ```
 */
export async function bundle(entry: URL, options: { minify?: boolean } = {}): Promise<string> {
  const args = ["bundle", "--quiet", "--platform", "browser", "--config", CONFIG.pathname];
  if (options.minify) args.push("--minify");
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, entry.pathname],
    cwd: new URL(".", CONFIG).pathname,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry.pathname} failed (exit ${code}):\n${text.decode(stderr)}`);
  }
  return text.decode(stdout);
}
