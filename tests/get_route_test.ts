import assert from "node:assert/strict";
import { App } from "../server/mod.ts";
import { realtime, run } from "../client/mod.ts";
import { listen } from "./_realtime_helpers.ts";

const PAGE = "<!doctype html><title>rally</title><h1>Hello</h1>";
const SECRET = "a test secret that is long enough for HS256";
const KEY = "test-key-1";

function html(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
}

function siteApp(app: App = new App({ name: "site" })): App {
  return app
    .get("/", () => html(PAGE))
    .get("/client.js", () =>
      new Response("console.log(1);", {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      }))
    .get("/files/:name", (request) => new Response(new URL(request.url).pathname))
    .endpoint("/run", {}, (input) => ({ got: input }))
    .realtime("/realtime", {}, (input) => input);
}

Deno.test("get serves a page with its content type, and HEAD without the body", async () => {
  await using server = listen(siteApp());
  const page = await fetch(`${server.http}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(await page.text(), PAGE);

  const script = await fetch(`${server.http}/client.js`);
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(await script.text(), "console.log(1);");

  const head = await fetch(`${server.http}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(await head.text(), "");
});

Deno.test("get answers 405 with allow: GET to other methods", async () => {
  await using server = listen(siteApp());
  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = await fetch(`${server.http}/`, {
      method,
      body: method === "DELETE" ? null : "x",
    });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET");
    assert.deepEqual(await response.json(), { detail: "Method Not Allowed" });
  }
});

Deno.test("get routes take Hono path patterns and work beside endpoints and realtime routes", async () => {
  await using server = listen(siteApp());
  const file = await fetch(`${server.http}/files/app.css`);
  assert.equal(await file.text(), "/files/app.css");
  assert.deepEqual(await run(server.http, { path: "/run", input: { a: 1 } }), { got: { a: 1 } });
  await using conn = await realtime(server.http, { path: "/realtime" });
  conn.send({ b: 2 });
  assert.deepEqual(await conn.receive(), { b: 2 });
  const missing = await fetch(`${server.http}/nope.js`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("get handlers get a context, and a handler that throws answers 500 to onError", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) })
    .get("/id", (_request, ctx) => new Response(ctx.requestId))
    .get("/boom", () => {
      throw new Error("boom");
    })
    .get("/wrong", () => "not a response" as unknown as Response);
  const id = await app.fetch(new Request("http://x/id", { headers: { "x-request-id": "r-1" } }));
  assert.equal(await id.text(), "r-1");
  for (const path of ["/boom", "/wrong"]) {
    const response = await app.fetch(new Request(`http://x${path}`));
    assert.equal(response.status, 500, path);
    assert.deepEqual(await response.json(), { detail: "Internal Server Error" });
  }
  assert.equal(errors.length, 2);
  assert.equal((errors[0] as Error).message, "boom");
  assert.ok(errors[1] instanceof TypeError);
});

Deno.test("get routes are left out of the OpenAPI document", () => {
  const paths = Object.keys(siteApp().openapi().paths).sort();
  assert.deepEqual(paths, ["/health", "/realtime", "/run"]);
});

Deno.test("get routes sit behind auth like every route but /health; verify can let a page in", async () => {
  const locked = siteApp(new App({ name: "locked", auth: { keys: [KEY], secret: SECRET } }));
  const refused = await locked.fetch(new Request("http://x/"));
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const withKey = await locked.fetch(
    new Request("http://x/", { headers: { authorization: `Key ${KEY}` } }),
  );
  assert.equal(await withKey.text(), PAGE);

  const publicPage = siteApp(
    new App({
      name: "public-page",
      auth: {
        keys: [KEY],
        secret: SECRET,
        verify: (request) => request.method === "GET" && new URL(request.url).pathname === "/",
      },
    }),
  );
  assert.equal(await (await publicPage.fetch(new Request("http://x/"))).text(), PAGE);
  const api = await publicPage.fetch(
    new Request("http://x/run", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(api.status, 401, "verify lets in the page only");
  await api.body?.cancel();
});

Deno.test("get refuses a path that is taken or rally's own", () => {
  assert.throws(() => siteApp().get("/run", () => new Response()), /already registered/);
  assert.throws(() => new App().get("/health", () => new Response()), /rally's own route/);
  assert.throws(() => new App().get("page", () => new Response()), /must start with/);
});

Deno.test("@App.get registers a method as a GET route with the App as this", async () => {
  class Site extends App {
    title = "decorated";

    @App.get("/")
    page(_request: Request): Response {
      return html(`<h1>${this.title}</h1>`);
    }
  }
  const response = await new Site().fetch(new Request("http://x/"));
  assert.equal(await response.text(), "<h1>decorated</h1>");
});
