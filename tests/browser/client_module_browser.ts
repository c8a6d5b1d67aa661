/**
 * rally's browser client as a module (issue 16, item 2) in Debian's headless chromium: the module
 * an App serves with `clientModule()` and the file `rally client` writes (`bundleClient`), each
 * imported by a page that calls `run`, `realtime`, `wsConnect` and `connect` against the App,
 * and sees why a connection failed (item 4: a browser's WebSocket names no status, so the client
 * asks again over HTTP).
 *
 * Run with `deno task test:browser`. Without chromium it is skipped, unless `CI=true`.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { App, bundleClient, clientModule } from "../../server/mod.ts";
import { listen } from "../_realtime_helpers.ts";
import { CHROMIUM, MISSING, withChromium } from "./_chromium.ts";

const CI = Deno.env.get("CI") === "true";
const STEP_MS = 30_000;

const missing = MISSING;
if (missing && !CI) console.warn(`${CHROMIUM} is not installed: skipping the browser test`);

/** The page: imports the client from `module`, calls every kind of endpoint, reports. */
function page(module: string): string {
  return `<!doctype html><meta charset="utf-8"><title>rally client</title>
<script type="module">
import * as rally from ${JSON.stringify(module)};
const out = {};
try {
  out.run = await rally.run(location.origin, { input: { prompt: "http" } });
  const conn = await rally.realtime(location.origin);
  conn.send({ prompt: "realtime" });
  out.realtime = await conn.receive();
  await conn.close();
  const ws = await rally.wsConnect(location.origin, { path: "/echo" });
  ws.send("raw");
  out.ws = await ws.receive();
  await ws.close();
  out.connect = await new Promise((resolve, reject) => {
    const live = rally.connect(location.origin, {
      onResult: (result) => { live.close(); resolve(result); },
      onError: reject,
    });
    live.send({ prompt: "callback" });
  });
  for (const path of ["/nope", "/"]) {
    await rally.realtime(location.origin, { path }).then(
      () => { out[path] = "connected"; },
      (error) => { out[path] = error.reason; },
    );
  }
} catch (error) {
  out.error = String(error?.stack ?? error);
}
window.rallyResult = out;
</script>`;
}

Deno.test({
  name:
    "browser client: the served module and the written file work in chromium and name failed connections",
  ignore: missing && !CI,
  // playwright-core talks to chromium over pipes that Deno's Node layer keeps as resources.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(!missing, `${CHROMIUM} is required with CI=true (apt-get install chromium)`);
    const dir = await Deno.makeTempDir({ prefix: "rally-client-" });
    try {
      await bundleClient({ output: `${dir}/rally.js` });
      const file = (name: string, type: string) => async () =>
        new Response(await Deno.readFile(`${dir}/${name}`), { headers: { "content-type": type } });
      const html = (module: string) => () =>
        new Response(page(module), { headers: { "content-type": "text/html" } });
      const Input = z.object({ prompt: z.string() });
      const app = new App()
        .get("/served", html("/rally.js"))
        .get("/written", html("/file/rally.js"))
        .get("/rally.js", clientModule())
        .get("/file/rally.js", file("rally.js", "text/javascript"))
        .get("/file/rally.js.map", file("rally.js.map", "application/json"))
        .endpoint("/", { input: Input }, (input) => ({ output: input.prompt }))
        .realtime("/realtime", { input: Input }, (input) => ({ output: input.prompt }))
        .websocket("/echo", async (socket) => socket.send(await socket.receiveText()));
      await using server = listen(app);
      await withChromium({ stepMs: STEP_MS }, async (context) => {
        for (const path of ["/served", "/written"]) {
          const tab = await context.newPage();
          const errors: string[] = [];
          tab.on("pageerror", (error) => errors.push(error.message));
          try {
            await tab.goto(`${server.http}${path}`, { timeout: STEP_MS });
            await tab.waitForFunction("window.rallyResult !== undefined", undefined, {
              timeout: STEP_MS,
            });
            const result = await tab.evaluate("window.rallyResult") as Record<string, unknown>;
            assert.deepEqual(errors, [], path);
            assert.equal(result.error, undefined, String(result.error));
            assert.deepEqual(result.run, { output: "http" }, path);
            assert.deepEqual(result.realtime, { output: "realtime" }, path);
            assert.equal(result.ws, "raw", path);
            assert.deepEqual(result.connect, { output: "callback" }, path);
            assert.match(String(result["/nope"]), /: no realtime endpoint at \/nope \(HTTP 404\)$/);
            assert.match(String(result["/"]), /: \/ is an HTTP endpoint \(it takes POST\)/);
          } finally {
            await tab.close({ runBeforeUnload: false });
          }
        }
        const map = await fetch(`${server.http}/file/rally.js.map`);
        assert.equal((await map.json()).version, 3);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
