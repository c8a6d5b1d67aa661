// The typed client stays browser-safe: a page that imports an App's type (`import type`) and
// calls it through `client<typeof app>` bundles (`deno bundle --platform browser`) to rally's
// client alone, with no server module, no schema library and nothing Deno-only.
import assert from "node:assert/strict";
import { bundleForBrowsers } from "../server/bundle.ts";

/** The repository's `deno.json`: the bundle resolves npm packages through its imports. */
const CONFIG = new URL("../deno.json", import.meta.url);

/** `deno bundle --platform browser` of one module, as rally bundles its client. */
function bundle(entry: URL): Promise<string> {
  return bundleForBrowsers(entry.pathname, {
    config: CONFIG.pathname,
    cwd: new URL(".", CONFIG).pathname,
    what: entry.pathname,
  });
}

/** The modules a bundle holds: esbuild names each in a `// path` comment before its code. */
function modulesOf(js: string): string[] {
  return [...js.matchAll(/^\/\/ (\S+\.(?:ts|js|mjs))$/gm)].map((match) => match[1]);
}

Deno.test("typed client: a browser bundle of a page typed from an App holds no server module", async () => {
  const js = await bundle(new URL("./fixtures/typed_page.ts", import.meta.url));
  const modules = modulesOf(js);
  assert.ok(modules.includes("client/typed.ts"), `the typed client is in: ${modules}`);
  assert.ok(modules.includes("tests/fixtures/typed_page.ts"), "the page is in");
  const foreign = modules.filter((path) =>
    !/^(client\/|internal\/|protocol\.ts$|codec\.ts$|tests\/fixtures\/typed_page\.ts$)/.test(
      path,
    ) &&
    !/\/npm\/registry\.npmjs\.org\/(@msgpack\/msgpack|eventsource-parser)\//.test(path)
  );
  assert.deepEqual(foreign, [], "only rally's client, its shared modules and its two npm packages");
  assert.doesNotMatch(
    js,
    /server\/|typed_app|zod|hono/,
    "no server module, no app, no zod, no Hono",
  );
  assert.doesNotMatch(js, /\bDeno\./, "nothing Deno-only");
  assert.match(js, /export \{[^}]*\bcallBoth\b/, "the page's function is exported");
});
