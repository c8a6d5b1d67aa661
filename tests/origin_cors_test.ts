import assert from "node:assert/strict";
import { App, type AppOptions } from "../server/mod.ts";
import { realtime } from "../client/mod.ts";
import { handshake } from "./_handshake.ts";
import { listen, Peer } from "./_realtime_helpers.ts";

const SECRET = "a test secret that is long enough for HS256";
const KEY = "origin-test-key";
const SITE = "https://studio.example.com";

function app(options: AppOptions = {}): App {
  return new App({ name: "origins", ...options })
    .endpoint("/", {}, (input) => ({ got: input }))
    .realtime("/realtime", {}, (input) => input)
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
}

function preflight(target: App, path: string, origin: string) {
  return target.fetch(
    new Request(`http://rally.test${path}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    }),
  );
}

// Origin

Deno.test("allowedOrigins lets a listed origin and no Origin open sockets, and refuses others with 403", async () => {
  await using server = listen(app({ allowedOrigins: [SITE, "http://localhost:5173"] }));
  const port = server.addr.port;
  for (const path of ["/realtime", "/ws"]) {
    assert.equal((await handshake(port, path, { origin: SITE })).status, 101, path);
    assert.equal((await handshake(port, path, { origin: "http://localhost:5173" })).status, 101);
    assert.equal((await handshake(port, path)).status, 101, `${path} without Origin`);
    const denied = await handshake(port, path, { origin: "https://evil.example" });
    assert.equal(denied.status, 403, path);
    assert.deepEqual(denied.body, {
      detail: "Origin https://evil.example may not open WebSockets here",
    });
  }
  // Near misses are other origins.
  for (const origin of ["http://studio.example.com", `${SITE}:8443`, "https://example.com"]) {
    assert.equal((await handshake(port, "/realtime", { origin })).status, 403, origin);
  }
});

Deno.test("allowedOrigins compares origins as browsers send them", async () => {
  await using server = listen(
    app({ allowedOrigins: ["HTTPS://Studio.Example.com:443/some/path"] }),
  );
  assert.equal((await handshake(server.addr.port, "/realtime", { origin: SITE })).status, 101);
});

Deno.test("allowedOrigins does not touch plain HTTP requests (CORS is for those)", async () => {
  const target = app({ allowedOrigins: [SITE] });
  const response = await target.fetch(
    new Request("http://rally.test/", {
      method: "POST",
      body: "1",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
    }),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  await response.body?.cancel();
});

Deno.test("allowedOrigins refuses entries that are not origins when the App starts", () => {
  assert.throws(
    () => app({ allowedOrigins: ["studio.example.com"] }).fetch(new Request("http://x/health")),
    { name: "TypeError", message: /"studio.example.com" is not an origin URL/ },
  );
});

Deno.test("an upgrade is checked in order: Origin 403, then auth 401, then maxSessions 503", async () => {
  const target = app({
    allowedOrigins: [SITE],
    auth: { keys: [KEY], secret: SECRET },
    maxSessions: 1,
  });
  await using server = listen(target);
  const port = server.addr.port;
  const key = { authorization: `Key ${KEY}` };
  // A bad origin is refused before its (missing) credentials are looked at.
  assert.equal(
    (await handshake(port, "/realtime", { origin: "https://evil.example" })).status,
    403,
  );
  assert.equal(
    (await handshake(port, "/realtime", { origin: "https://evil.example", ...key })).status,
    403,
  );
  // A good origin without credentials: 401, even with the session limit reached.
  await using held = await realtime(server.http, { key: KEY });
  const unauthenticated = await handshake(port, "/realtime", { origin: SITE });
  assert.equal(unauthenticated.status, 401);
  const full = await handshake(port, "/realtime", { origin: SITE, ...key });
  assert.equal(full.status, 503);
  assert.deepEqual(full.body, { detail: "Too many open sessions: try again later" });
  await held.close();
});

// CORS

Deno.test("cors answers a preflight on an HTTP endpoint and adds its headers to responses", async () => {
  const target = app({ cors: { origins: [SITE], maxAge: 600 } });
  const answer = await preflight(target, "/", SITE);
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get("access-control-allow-origin"), SITE);
  assert.equal(answer.headers.get("access-control-allow-methods"), "GET,POST,OPTIONS");
  assert.equal(answer.headers.get("access-control-allow-headers"), "authorization,content-type");
  assert.equal(answer.headers.get("access-control-max-age"), "600");
  const response = await target.fetch(
    new Request("http://rally.test/", {
      method: "POST",
      body: '{"a":1}',
      headers: { origin: SITE, "content-type": "application/json" },
    }),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), SITE);
  assert.match(response.headers.get("vary") ?? "", /Origin/);
  assert.deepEqual(await response.json(), { got: { a: 1 } });
  // Another origin gets no grant.
  const other = await preflight(target, "/", "https://evil.example");
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

Deno.test("cors: true allows any origin; without cors a preflight is 405", async () => {
  const open = await preflight(app({ cors: true }), "/", SITE);
  assert.equal(open.status, 204);
  assert.equal(open.headers.get("access-control-allow-origin"), "*");
  const closed = await preflight(app(), "/", SITE);
  assert.equal(closed.status, 405);
  await closed.body?.cancel();
});

Deno.test("cors preflights pass auth, and auth's 401 carries CORS headers a page can read", async () => {
  const target = app({ cors: { origins: [SITE] }, auth: { keys: [KEY], secret: SECRET } });
  const answer = await preflight(target, "/", SITE);
  assert.equal(answer.status, 204); // browsers send preflights without credentials
  const refused = await target.fetch(
    new Request("http://rally.test/", { method: "POST", body: "1", headers: { origin: SITE } }),
  );
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("access-control-allow-origin"), SITE);
  await refused.body?.cancel();
});

Deno.test("cors leaves WebSocket upgrades untouched: they open and work, with no CORS headers", async () => {
  await using server = listen(app({ cors: { origins: [SITE], credentials: true } }));
  const upgraded = await handshake(server.addr.port, "/realtime", { origin: SITE });
  assert.equal(upgraded.status, 101);
  assert.equal(upgraded.headers.get("access-control-allow-origin"), null);
  assert.equal(upgraded.headers.get("access-control-allow-credentials"), null);
  await using peer = await Peer.open(`${server.ws}/realtime`);
  peer.send({ n: 1 });
  assert.deepEqual(await peer.output(), { n: 1 });
  await using conn = await realtime(server.http, { headers: { origin: SITE } });
  conn.send({ n: 2 });
  assert.deepEqual(await conn.receive(), { n: 2 });
});

Deno.test("cors refuses credentials with any origin when the App starts", () => {
  assert.throws(
    () => app({ cors: { credentials: true } }).fetch(new Request("http://x/health")),
    { name: "TypeError", message: /cors.credentials needs a list of origins/ },
  );
});
