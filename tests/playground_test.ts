/**
 * The playground at `GET /docs` on the server's side (the page itself is tested in chromium by
 * tests/browser/playground_browser.ts): served by default, moved or turned off by the `docs`
 * option, behind auth (a browser without credentials gets a sign-in form with the 401), `GET /`
 * from a browser redirected to it, and its committed script in step with its sources.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, run } from "../client/mod.ts";
import { App, type AppOptions } from "../server/mod.ts";
import { bytesFields, startingInput } from "../server/docs/page/schema.js";
import { hexHead, imageType } from "../server/docs/page/values.js";
import { listen } from "./_realtime_helpers.ts";

const SECRET = "a test secret that is long enough for HS256";
const KEY = "playground-key";
const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const Prompt = z.object({ prompt: z.string() });

function echoApp(options: AppOptions = {}): App {
  return new App({ name: "echo", ...options })
    .endpoint("/", { input: Prompt }, (input) => ({ output: input.prompt }))
    .realtime("/realtime", { input: Prompt }, (input) => ({ output: input.prompt }));
}

function get(app: App, path: string, headers: Record<string, string> = {}) {
  return app.fetch(new Request(`http://rally.test${path}`, { headers }));
}

Deno.test("GET /docs serves the playground: one HTML page, its script inline, nothing from another site", async () => {
  const response = await get(echoApp(), "/docs");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  const html = await response.text();
  assert.match(html, /data-docs="\/docs"/);
  assert.equal(html.match(/<script\b/g)?.length, 1, "one script element");
  assert.equal(html.match(/<\/script/gi)?.length, 1, "the inlined script never ends it early");
  assert.doesNotMatch(html, /<script[^>]*\bsrc=/, "the script is inline");
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "nothing loads from another site");
  assert.match(html, /openapi\.json/, "the page reads the App's OpenAPI document");
  const head = await echoApp().fetch(new Request("http://rally.test/docs", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await echoApp().fetch(new Request("http://rally.test/docs", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
  await post.body?.cancel();
});

Deno.test("the docs option moves the playground or turns it off; it is not in the OpenAPI document", async () => {
  const moved = echoApp({ docs: "/tools/playground/" });
  const page = await get(moved, "/tools/playground");
  assert.equal(page.status, 200);
  assert.match(await page.text(), /data-docs="\/tools\/playground"/);
  const old = await get(moved, "/docs");
  assert.equal(old.status, 404);
  await old.body?.cancel();
  const home = await get(moved, "/", BROWSER);
  assert.equal(home.status, 302);
  assert.equal(home.headers.get("location"), "tools/playground");

  const off = echoApp({ docs: false });
  const none = await get(off, "/docs", BROWSER);
  assert.equal(none.status, 404);
  assert.deepEqual(await none.json(), { detail: "Path /docs not found" });
  const notMoved = await get(off, "/", BROWSER);
  assert.equal(notMoved.status, 405, "without a playground GET / answers as before");
  await notMoved.body?.cancel();

  const paths = Object.keys(echoApp().openapi().paths);
  assert.ok(!paths.includes("/docs"), `no /docs in ${paths}`);
});

Deno.test("the docs option is checked when the App starts, and the playground's path is not taken twice", () => {
  for (const docs of ["docs", "/items/:id", "/", "/a b", 3 as unknown as string]) {
    assert.throws(
      () => echoApp({ docs }).fetch(new Request("http://rally.test/health")),
      (error: unknown) =>
        error instanceof TypeError &&
        /docs must be true, false or a fixed path/.test(error.message),
      `docs: ${JSON.stringify(docs)}`,
    );
  }
  const clash = () => new App().get("/docs", () => new Response("mine"));
  assert.throws(
    () => clash().fetch(new Request("http://rally.test/health")),
    /\/docs is the playground's path: move that route, or the playground/,
  );
  const mine = clash();
  mine.docs = false; // a field, as in the class form
  return Promise.resolve(mine.fetch(new Request("http://rally.test/docs"))).then(async (response) =>
    assert.equal(await response.text(), "mine")
  );
});

Deno.test("GET / from a browser goes to the playground; other requests at / answer as before", async () => {
  const app = echoApp();
  const browser = await get(app, "/?token=abc", BROWSER);
  assert.equal(browser.status, 302);
  assert.equal(browser.headers.get("location"), "docs?token=abc", "relative, the query kept");
  const script = await get(app, "/", { accept: "application/json" });
  assert.equal(script.status, 405);
  await script.body?.cancel();
  const posted = await app.fetch(
    new Request("http://rally.test/", {
      method: "POST",
      headers: { ...BROWSER, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "hi" }),
    }),
  );
  assert.deepEqual(await posted.json(), { output: "hi" });

  // No route at /: a browser goes to the playground, others get the 404.
  const empty = new App().endpoint("/run", {}, () => ({}));
  assert.equal((await get(empty, "/", BROWSER)).headers.get("location"), "docs");
  const missing = await get(empty, "/");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();

  // A page of the App's own at / wins.
  const site = new App().get("/", () => new Response("home"));
  assert.equal(await (await get(site, "/", BROWSER)).text(), "home");
});

Deno.test("a realtime endpoint at / still upgrades when the handshake accepts text/html", async () => {
  await using server = listen(
    new App().realtime("/", { input: Prompt }, (input) => ({ output: input.prompt })),
  );
  const page = await fetch(`${server.http}/`, { headers: BROWSER, redirect: "manual" });
  assert.equal(page.status, 302);
  await page.body?.cancel();
  await using conn = await realtime(server.http, { path: "/", headers: BROWSER });
  conn.send({ prompt: "still a socket" });
  assert.deepEqual(await conn.receive(), { output: "still a socket" });
});

Deno.test("behind auth: the page needs credentials like every route; a browser without them gets a sign-in form", async () => {
  const app = echoApp({ auth: { keys: [KEY], secret: SECRET } });
  const script = await get(app, "/docs");
  assert.equal(script.status, 401);
  assert.equal(script.headers.get("content-type"), "application/json");
  await script.body?.cancel();

  const browser = await get(app, "/docs", BROWSER);
  assert.equal(browser.status, 401);
  assert.equal(browser.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(browser.headers.get("www-authenticate") ?? "", /^Bearer/);
  const form = await browser.text();
  assert.match(form, /id="sign-in"/);
  assert.doesNotMatch(form, /echo/, "the form tells nothing of the App");

  const withKey = await get(app, "/docs", { ...BROWSER, authorization: `Key ${KEY}` });
  assert.equal(withKey.status, 200);
  assert.match(await withKey.text(), /data-docs="\/docs"/);
  const minted = await app.fetch(
    new Request("http://rally.test/tokens", {
      method: "POST",
      headers: { authorization: `Key ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ allowed_apps: ["echo"] }),
    }),
  );
  const token: string = await minted.json();
  const withToken = await get(app, `/docs?token=${token}`, BROWSER);
  assert.equal(withToken.status, 200, "a token in the URL opens the page");
  await withToken.body?.cancel();
  const wrong = await get(app, "/docs?token=nope", BROWSER);
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /id="sign-in"/);
  // Other routes refuse browsers with the usual JSON 401.
  const other = await get(app, "/openapi.json", BROWSER);
  assert.equal(other.status, 401);
  assert.equal(other.headers.get("content-type"), "application/json");
  await other.body?.cancel();
  // And the page's client reaches the App with what the page holds.
  await using server = listen(app);
  assert.deepEqual(await run(server.http, { input: { prompt: "in" }, token }), { output: "in" });
});

Deno.test("the page's schema reading: an example, else a skeleton; bytes fields come from files", () => {
  const schema = z.object({
    prompt: z.string(),
    steps: z.number().int().min(1),
    size: z.enum(["small", "large"]),
    seed: z.number().nullable(),
    strength: z.number().default(0.5),
    tags: z.array(z.string()),
    nested: z.object({ on: z.boolean() }),
  }).toJSONSchema();
  assert.deepEqual(startingInput(schema, {}), {
    prompt: "",
    steps: 1,
    size: "small",
    seed: 0,
    strength: 0.5,
    tags: [],
    nested: { on: false },
  });
  assert.deepEqual(startingInput({ ...schema, examples: [{ prompt: "a cat" }] }, {}), {
    prompt: "a cat",
  });
  assert.deepEqual(startingInput(undefined, {}), {});
  const withBytes = {
    type: "object",
    properties: {
      image: { $ref: "#/$defs/Bytes" },
      mask: { type: "string", contentEncoding: "base64" },
      note: { type: "string" },
    },
    required: ["image"],
    $defs: { Bytes: { type: "string", format: "binary", contentMediaType: "image/png" } },
  };
  assert.deepEqual(startingInput(withBytes, {}), { note: "" });
  assert.deepEqual(bytesFields(withBytes, {}), [
    { name: "image", required: true, type: "image/png" },
    { name: "mask", required: false, type: undefined },
  ]);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(imageType(png), "image/png");
  assert.equal(imageType(new Uint8Array([1, 2, 3])), undefined);
  assert.equal(hexHead(png, 4), "89 50 4e 47 …");
});

Deno.test("server/docs/bundle.ts is what build:docs makes from server/docs/page/ and client/", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../server/docs/build.ts", import.meta.url).pathname, "--check"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});

Deno.test("the playground needs no permission: its script is a module constant, nothing is read or bundled at run time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rally-playground-" });
  try {
    const script = `${dir}/bare.ts`;
    await Deno.writeTextFile(
      script,
      `import { App } from ${JSON.stringify(new URL("../server/mod.ts", import.meta.url).href)};
const page = await new App().fetch(new Request("http://rally.test/docs"));
const html = await page.text();
console.log(page.status, html.length > 20_000 && html.includes("openapi.json"));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assert.equal(code, 0, text.decode(stderr));
    assert.equal(text.decode(stdout).trim(), "200 true");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
