import assert from "node:assert/strict";
import { sign } from "hono/jwt";
import { App, type AppOptions, serve } from "../server/mod.ts";
import { MAX_TOKEN_EXPIRATION } from "../server/middleware/auth.ts";
import {
  connect,
  fetchToken,
  HttpError,
  realtime,
  RealtimeError,
  run,
  stream,
  wsConnect,
} from "../client/mod.ts";
import { handshake } from "./_handshake.ts";
import { listen, waitFor, within } from "./_realtime_helpers.ts";

const SECRET = "a test secret that is long enough for HS256";
const KEY = "test-key-1";
const OTHER_KEY = "test-key-2";

function secureApp(options: AppOptions = {}): App {
  return new App({ name: "secure", auth: { keys: [KEY, OTHER_KEY], secret: SECRET }, ...options })
    .endpoint("/", {}, (input) => ({ got: input }))
    .stream("/steps", {}, function* () {
      yield { step: 1 };
    })
    .realtime("/realtime", {}, (input) => input)
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
}

function request(app: App, path: string, init: RequestInit = {}) {
  return app.fetch(new Request(`http://rally.test${path}`, init));
}

function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}) {
  return request(app, path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

function claims(token: string): Record<string, unknown> {
  return JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
}

async function mint(app: App, body: unknown = { allowed_apps: [app.name] }): Promise<string> {
  const response = await post(app, "/tokens", body, { authorization: `Key ${KEY}` });
  assert.equal(response.status, 200);
  return await response.json();
}

const now = () => Math.floor(Date.now() / 1000);

// Keys

Deno.test("auth lets a key in as Authorization: Key or Bearer, in constant time over all keys", async () => {
  const app = secureApp();
  for (const authorization of [`Key ${KEY}`, `Bearer ${OTHER_KEY}`, `key   ${KEY}`]) {
    const response = await post(app, "/", { a: 1 }, { authorization });
    assert.equal(response.status, 200, authorization);
    assert.deepEqual(await response.json(), { got: { a: 1 } });
  }
});

Deno.test("auth answers 401 with a JSON detail to a missing, wrong or unsupported credential", async () => {
  const app = secureApp();
  const cases: [Record<string, string>, string | RegExp][] = [
    [{}, /^Not authenticated: send Authorization: Key <key> or Bearer <token>/],
    [{ authorization: "Key nope" }, "Invalid key"],
    [{ authorization: `Key ${KEY}x` }, "Invalid key"],
    [{ authorization: "Bearer nope" }, "Invalid token"],
    [{ authorization: `Basic ${btoa(`user:${KEY}`)}` }, /^Unsupported authorization scheme/],
    [{ authorization: KEY }, /^Unsupported authorization scheme/],
  ];
  for (const [headers, detail] of cases) {
    const response = await post(app, "/", {}, headers);
    assert.equal(response.status, 401, JSON.stringify(headers));
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="rally"');
    const body = await response.json();
    if (typeof detail === "string") assert.deepEqual(body, { detail });
    else assert.match(body.detail, detail);
  }
});

Deno.test("auth keeps /health open and puts /openapi.json, SSE and unknown paths behind it", async () => {
  const app = secureApp();
  assert.equal((await request(app, "/health")).status, 200);
  assert.equal((await request(app, "/openapi.json")).status, 401);
  assert.equal((await post(app, "/steps", {})).status, 401);
  const unknown = await request(app, "/nope");
  assert.equal(unknown.status, 401); // no route is revealed without credentials
  await unknown.body?.cancel();
  const withKey = { headers: { authorization: `Key ${KEY}` } };
  assert.equal((await request(app, "/nope", withKey)).status, 404);
  const openapi = await request(app, "/openapi.json", withKey);
  assert.equal(openapi.status, 200);
  await openapi.body?.cancel();
});

Deno.test("auth never takes a key from the query", async () => {
  await using server = listen(secureApp());
  for (const query of [`token=${KEY}`, `fal_jwt_token=${KEY}`]) {
    const answer = await handshake(server.addr.port, `/realtime?${query}`);
    assert.equal(answer.status, 401, query);
    assert.deepEqual(answer.body, { detail: "Invalid token" });
  }
});

// Tokens

Deno.test("POST /tokens mints a JWT scoped to the App: 120 s by default, at most 24 h", async () => {
  const app = secureApp();
  const plain = await mint(app);
  assert.equal(typeof plain, "string");
  const payload = claims(plain);
  assert.equal(payload.aud, "secure");
  assert.equal(payload.iss, "rally");
  assert.equal(Number(payload.exp) - Number(payload.iat), 120);
  assert.ok(Math.abs(Number(payload.iat) - now()) <= 2);
  const longer = claims(
    await mint(app, { allowed_apps: ["other", "secure"], token_expiration: 600 }),
  );
  assert.equal(Number(longer.exp) - Number(longer.iat), 600);
  assert.equal(longer.aud, "secure"); // scoped to this App only, whatever else was asked
  const capped = claims(await mint(app, { allowed_apps: ["secure"], token_expiration: 864_000 }));
  assert.equal(Number(capped.exp) - Number(capped.iat), MAX_TOKEN_EXPIRATION);
});

Deno.test("POST /tokens refuses: 401 without a key or with a token, 403 for another app, 422 for bad bodies, 405 for GET", async () => {
  const app = secureApp();
  const body = { allowed_apps: ["secure"] };
  const noKey = await post(app, "/tokens", body);
  assert.equal(noKey.status, 401);
  assert.deepEqual(await noKey.json(), { detail: "Minting a token needs a key" });
  const token = await mint(app);
  const withToken = await post(app, "/tokens", body, { authorization: `Bearer ${token}` });
  assert.equal(withToken.status, 401); // tokens cannot mint tokens
  assert.deepEqual(await withToken.json(), { detail: "Invalid key" });
  const wrongKey = await post(app, "/tokens", body, { authorization: "Key nope" });
  assert.equal(wrongKey.status, 401);
  await wrongKey.body?.cancel();

  const key = { authorization: `Key ${KEY}` };
  const forbidden = await post(app, "/tokens", { allowed_apps: ["other"] }, key);
  assert.equal(forbidden.status, 403);
  assert.deepEqual(await forbidden.json(), {
    detail: 'allowed_apps must include this app: "secure"',
  });
  const invalid: [unknown, string][] = [
    [{}, "allowed_apps"],
    [{ allowed_apps: "secure" }, "allowed_apps"],
    [{ allowed_apps: [1] }, "allowed_apps"],
    [{ allowed_apps: ["secure"], token_expiration: 0 }, "token_expiration"],
    [{ allowed_apps: ["secure"], token_expiration: 1.5 }, "token_expiration"],
    [{ allowed_apps: ["secure"], token_expiration: "60" }, "token_expiration"],
    [["secure"], ""],
  ];
  for (const [value, field] of invalid) {
    const response = await post(app, "/tokens", value, key);
    assert.equal(response.status, 422, JSON.stringify(value));
    const { detail } = await response.json();
    assert.deepEqual(detail[0].loc, field ? ["body", field] : ["body"]);
  }
  const notJson = await request(app, "/tokens", {
    method: "POST",
    body: "{",
    headers: { "content-type": "application/json", ...key },
  });
  assert.equal(notJson.status, 422);
  await notJson.body?.cancel();
  const tooLarge = await post(app, "/tokens", { allowed_apps: ["x".repeat(70_000)] }, key);
  assert.equal(tooLarge.status, 413);
  await tooLarge.body?.cancel();
  const get = await request(app, "/tokens", { headers: key });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
});

Deno.test("a token works as Bearer on HTTP and SSE, and in the query or a Bearer header of an upgrade", async () => {
  await using server = listen(secureApp());
  const token = await fetchToken(server.http, { key: KEY, app: "secure", expiration: 60 });
  assert.deepEqual(await run(server.http, { input: { a: 1 }, token }), { got: { a: 1 } });
  const steps = [];
  for await (const step of stream(server.http, { path: "/steps", token })) steps.push(step);
  assert.deepEqual(steps, [{ step: 1 }]);
  {
    await using conn = await realtime(server.http, { token }); // fal_jwt_token in the query
    conn.send({ n: 1 });
    assert.deepEqual(await conn.receive(), { n: 1 });
  }
  {
    await using ws = await wsConnect(server.http, { path: "/ws", token });
    ws.send("hi");
    assert.equal(await ws.receive(), "hi");
  }
  const port = server.addr.port;
  assert.equal((await handshake(port, `/realtime?token=${token}`)).status, 101);
  assert.equal((await handshake(port, `/realtime?fal_jwt_token=${token}`)).status, 101);
  const bearer = await handshake(port, "/realtime", { authorization: `Bearer ${token}` });
  assert.equal(bearer.status, 101);
});

Deno.test("a key works from Deno clients as Authorization: Key on sockets, HTTP and SSE", async () => {
  await using server = listen(secureApp());
  assert.deepEqual(await run(server.http, { input: 2, key: KEY }), { got: 2 });
  const steps = [];
  for await (const step of stream(server.http, { path: "/steps", key: KEY })) steps.push(step);
  assert.equal(steps.length, 1);
  {
    await using conn = await realtime(server.http, { key: KEY });
    conn.send({ n: 2 });
    assert.deepEqual(await conn.receive(), { n: 2 });
  }
  await using ws = await wsConnect(server.http, { path: "/ws", key: OTHER_KEY });
  ws.send("yo");
  assert.equal(await ws.receive(), "yo");
  const result = Promise.withResolvers<unknown>();
  const live = connect(server.http, { key: KEY, onResult: result.resolve, onError: result.reject });
  try {
    live.send({ n: 3 });
    assert.deepEqual(await within(result.promise, "connect()'s result"), { n: 3 });
  } finally {
    live.close();
  }
});

Deno.test("an upgrade without valid credentials gets 401 with a JSON detail and no socket", async () => {
  let sessions = 0;
  const app = secureApp().realtime("/counted", {}, (input) => {
    sessions++;
    return input;
  });
  await using server = listen(app);
  const missing = await handshake(server.addr.port, "/counted");
  assert.equal(missing.status, 401);
  assert.match((missing.body as { detail: string }).detail, /^Not authenticated/);
  const wrong = await handshake(server.addr.port, "/counted", { authorization: "Key nope" });
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.body, { detail: "Invalid key" });
  const raw = await handshake(server.addr.port, "/ws?fal_jwt_token=garbage");
  assert.equal(raw.status, 401);
  assert.deepEqual(raw.body, { detail: "Invalid token" });
  await assert.rejects(realtime(server.http, { path: "/counted" }), (error) => {
    assert.ok(error instanceof RealtimeError);
    assert.equal(error.code, "CONNECTION_CLOSED");
    return true;
  });
  assert.equal(app.sessionCount, 0);
  assert.equal(sessions, 0);
});

Deno.test("an expired token gets 401: Token has expired", async () => {
  await using server = listen(secureApp());
  const expired = await sign(
    { iss: "rally", aud: "secure", iat: now() - 120, exp: now() - 60 },
    SECRET,
    "HS256",
  );
  const answer = await handshake(server.addr.port, `/realtime?fal_jwt_token=${expired}`);
  assert.equal(answer.status, 401);
  assert.deepEqual(answer.body, { detail: "Token has expired" });
  await assert.rejects(run(server.http, { token: expired }), (error) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 401);
    assert.equal(error.detail, "Token has expired");
    return true;
  });
});

Deno.test("a token for another App, signed with another secret or unsigned gets 401", async () => {
  const app = secureApp();
  // Another App sharing the secret mints tokens for itself only.
  const other = new App({ name: "other", auth: { keys: [KEY], secret: SECRET } });
  const otherToken = await mint(other);
  const forged = await sign(
    { iss: "rally", aud: "secure", exp: now() + 60 },
    "another secret, just as long as the real one",
    "HS256",
  );
  const encode = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
  const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${
    encode({ iss: "rally", aud: "secure", exp: now() + 60 })
  }.`;
  const cases: [string, string][] = [
    [otherToken, "Token is not for this app"],
    [forged, "Invalid token"],
    [unsigned, "Invalid token"],
    [`${forged.slice(0, -2)}xx`, "Invalid token"],
  ];
  for (const [token, detail] of cases) {
    const response = await post(app, "/", {}, { authorization: `Bearer ${token}` });
    assert.equal(response.status, 401, detail);
    assert.deepEqual(await response.json(), { detail });
  }
});

Deno.test("a session whose token expires keeps running; a new connection with it gets 401", async () => {
  await using server = listen(secureApp());
  const exp = now() + 1;
  const token = await sign({ iss: "rally", aud: "secure", exp }, SECRET, "HS256");
  await using conn = await realtime(server.http, { token });
  conn.send({ before: true });
  assert.deepEqual(await conn.receive(), { before: true });
  // Time is the behaviour under test: wait on the clock until the token has expired (~1 s).
  await waitFor(() => Date.now() > exp * 1000 + 100, "the token to expire");
  conn.send({ after: true });
  assert.deepEqual(await conn.receive(), { after: true });
  const fresh = await handshake(server.addr.port, `/realtime?fal_jwt_token=${token}`);
  assert.equal(fresh.status, 401);
  assert.deepEqual(fresh.body, { detail: "Token has expired" });
});

Deno.test("auth.verify lets another scheme in, and may mint tokens", async () => {
  const seen: string[] = [];
  const app = new App({
    name: "custom",
    auth: {
      secret: SECRET,
      verify: (request) => {
        seen.push(new URL(request.url).pathname);
        return request.headers.get("x-session") === "valid";
      },
    },
  }).endpoint("/", {}, () => "ok");
  const session = { "x-session": "valid" };
  assert.equal((await post(app, "/", {}, session)).status, 200);
  const refused = await post(app, "/", {}, { "x-session": "stale" });
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const response = await post(app, "/tokens", { allowed_apps: ["custom"] }, session);
  assert.equal(response.status, 200);
  const token = await response.json();
  assert.equal((await post(app, "/", {}, { authorization: `Bearer ${token}` })).status, 200);
  assert.deepEqual(seen, ["/", "/", "/tokens"]); // a valid token never reaches verify
});

Deno.test("fetchToken mints with a key and throws HttpError when refused", async () => {
  await using server = listen(secureApp());
  const token = await fetchToken(server.http, { key: KEY, app: "secure" });
  assert.equal(claims(token).aud, "secure");
  await assert.rejects(fetchToken(server.http, { key: KEY, app: "elsewhere" }), (error) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 403);
    return true;
  });
  await assert.rejects(fetchToken(server.http, { key: "nope", app: "secure" }), (error) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 401);
    return true;
  });
});

// Configuration

Deno.test("auth without a secret is an error at serve() and at the first request; RALLY_SECRET supplies one", async () => {
  const saved = Deno.env.get("RALLY_SECRET");
  Deno.env.delete("RALLY_SECRET");
  try {
    const options = { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} };
    const app = new App({ auth: { keys: [KEY] } });
    assert.throws(() => serve(app, options), {
      name: "TypeError",
      message: /no secret.*auth\.secret or RALLY_SECRET/,
    });
    assert.throws(() => app.fetch(new Request("http://rally.test/health")), TypeError);
    assert.throws(
      () => serve(new App({ auth: { secret: "short" } }), options),
      { name: "RangeError", message: /at least 32 bytes/ },
    );
    Deno.env.set("RALLY_SECRET", SECRET);
    const fromEnv = new App({ name: "env", auth: { keys: [KEY] } }).endpoint("/", {}, () => 1);
    const token = await mint(fromEnv);
    // Signed with RALLY_SECRET: an App given the same secret explicitly accepts it.
    const explicit = new App({ name: "env", auth: { secret: SECRET } }).endpoint("/", {}, () => 1);
    assert.equal((await post(explicit, "/", {}, { authorization: `Bearer ${token}` })).status, 200);
  } finally {
    if (saved === undefined) Deno.env.delete("RALLY_SECRET");
    else Deno.env.set("RALLY_SECRET", saved);
  }
});

Deno.test("auth refuses malformed keys and a route at /tokens when the App starts", () => {
  const start = (options: AppOptions, path = "/") =>
    new App(options).endpoint(path, {}, () => 1).fetch(new Request("http://rally.test/health"));
  assert.throws(
    () => start({ auth: { keys: [Deno.env.get("RALLY_NO_SUCH_KEY")!], secret: SECRET } }),
    { name: "TypeError", message: "auth.keys[0] must be a non-empty string, got undefined" },
  );
  assert.throws(() => start({ auth: { keys: [""], secret: SECRET } }), TypeError);
  assert.throws(
    () => start({ auth: { secret: SECRET } }, "/tokens"),
    { name: "TypeError", message: /\/tokens is rally's own route/ },
  );
  // Without auth, /tokens is an ordinary path.
  start({}, "/tokens");
});

Deno.test("auth options can be class fields", async () => {
  class Guarded extends App {
    override auth = { keys: [KEY], secret: SECRET };

    @App.endpoint("/")
    hello() {
      return "hi";
    }
  }
  const app = new Guarded();
  assert.equal((await post(app, "/", {})).status, 401);
  assert.equal((await post(app, "/", {}, { authorization: `Key ${KEY}` })).status, 200);
});
