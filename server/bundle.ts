/**
 * `deno bundle --platform browser` of one module, in a child process (esbuild underneath): the
 * one way rally builds browser code, for its client module (`rally client`, `clientModule()`),
 * the playground's script (`deno task build:docs`) and the tests that check what a bundle holds.
 *
 * @module
 */

/** How to bundle a module for browsers. */
export interface BrowserBundleOptions {
  /** The `deno.json` whose imports resolve the module's packages. */
  config?: string;
  /** Where to run: a bundle heads each module with its path from here. */
  cwd?: string;
  /** Minify. Default false. */
  minify?: boolean;
  /** Write the module here, with its source map next to it; default: return it. */
  output?: string;
  /** What could not be bundled, for the error ("rally's client"). */
  what: string;
}

/**
 * Bundle a module for browsers as one ES module.
 *
 * @param entry The module (a path or a `jsr:` specifier).
 * @param options Config, minify, output.
 * @returns The module's JavaScript (read back from `output` when one is given).
 * @throws {Error} "Cannot bundle ...: deno bundle ... failed" with its output.
 */
export async function bundleForBrowsers(
  entry: string,
  options: BrowserBundleOptions,
): Promise<string> {
  const args = ["bundle", "--quiet", "--platform", "browser", "--format", "esm"];
  if (options.config) args.push("--config", options.config);
  if (options.minify) args.push("--minify");
  if (options.output) args.push("--sourcemap", "linked", "--output", options.output);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, entry],
    cwd: options.cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle ${options.what}: deno bundle ${entry} failed (exit ${code}):\n${
        text.decode(stderr)
      }`,
    );
  }
  return options.output ? await Deno.readTextFile(options.output) : text.decode(stdout);
}
