/**
 * Connections that never leave, at the proxy (issue 12, item 3): `deploy/nginx.conf` in a real
 * nginx in front of two rally instances. An idle TCP connection, slowloris clients (a request
 * head sent one header a second) and a stalled body are closed by nginx within its timeouts
 * (10 s), while a good client is answered throughout; then the rally instances are alive.
 *
 * Run with `deno task test:deploy` (needs nginx; skipped without it unless `CI=true`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../_helpers.ts";
import { delay, within } from "../_realtime_helpers.ts";
import { CI, generateConf, NGINX, startInstance, startNginx } from "./_nginx.ts";

/** nginx's client_header_timeout and client_body_timeout in deploy/nginx.conf, in ms. */
const TIMEOUT_MS = 10_000;
/** Slowloris clients (under the conf's per-address connection limit). */
const SLOWLORIS = 20;

/** Wait for nginx to end a connection: EOF or reset. Resolves with what it sent before. */
async function ended(conn: Deno.Conn, ms: number): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(4096);
  return await within(
    (async () => {
      for (;;) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) return text;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
    })(),
    "nginx to close the connection",
    ms,
  );
}

/** Write bytes, or give up quietly once nginx has closed the connection. */
async function trickle(conn: Deno.Conn, text: string): Promise<boolean> {
  try {
    await conn.write(new TextEncoder().encode(text));
    return true;
  } catch {
    return false;
  }
}

const missing = NGINX === undefined;
if (missing && !CI) console.warn("nginx is not installed: skipping the deploy tests");

Deno.test({
  name:
    "nginx closes idle, slowloris and stalled-body clients within its timeouts while a good client is served",
  ignore: missing && !CI,
  async fn() {
    assert.ok(!missing, "nginx is required with CI=true (apt-get install nginx)");
    const dir = await Deno.makeTempDir({ prefix: "rally-nginx-slow-" });
    const instances = await Promise.all([startInstance("a"), startInstance("b")]);
    const port = freePort();
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    const conns: Deno.Conn[] = [];
    try {
      const conf = await generateConf(dir, port, instances.map((i) => i.port));
      nginx = await startNginx(dir, conf, port);
      const url: string = nginx.url;
      const open = async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(conn);
        return conn;
      };
      const started = performance.now();
      const attacks: Promise<{ kind: string; ms: number; text: string }>[] = [];
      const watch = (kind: string, conn: Deno.Conn) =>
        attacks.push(
          ended(conn, TIMEOUT_MS + 10_000).then((text) => ({
            kind,
            ms: performance.now() - started,
            text,
          })),
        );

      // An idle TCP connection: not a byte.
      watch("idle", await open());
      // Slowloris: a request head, one header a second, never finished.
      const slow = await Promise.all(Array.from({ length: SLOWLORIS }, open));
      for (const conn of slow) {
        await trickle(conn, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
        watch("slowloris", conn);
      }
      const trickling = (async () => {
        for (let second = 0; second < 30; second++) {
          await delay(1_000);
          const alive = await Promise.all(slow.map((conn) => trickle(conn, `X-${second}: a\r\n`)));
          if (!alive.some(Boolean)) return;
        }
      })();
      // A body that stalls: 10 bytes of 100.
      const body = await open();
      await trickle(
        body,
        "POST /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
          'Content-Length: 100\r\n\r\n{"a":"1234',
      );
      watch("stalled body", body);

      // A good client, answered throughout.
      let answered = 0;
      const done = Promise.all(attacks);
      let finished = false;
      done.finally(() => finished = true);
      while (!finished) {
        const response = await fetch(`${url}/whoami`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(response.status, 200);
        assert.match((await response.json()).worker, /^[ab]-/);
        answered++;
        await delay(500);
      }
      const results = await done;
      await trickling;
      for (const { kind, ms } of results) {
        assert.ok(
          ms >= TIMEOUT_MS - 1_000 && ms < TIMEOUT_MS + 5_000,
          `${kind} closed after ${ms.toFixed(0)} ms`,
        );
      }
      const slowest = Math.max(...results.map((r) => r.ms));
      console.log(
        `nginx closed 1 idle, ${SLOWLORIS} slowloris and 1 stalled-body connections within ` +
          `${(slowest / 1000).toFixed(1)} s; the good client got ${answered} answers meanwhile`,
      );
      assert.ok(answered >= 10, `${answered} good answers`);
      for (const instance of instances) {
        const response = await fetch(`http://127.0.0.1:${instance.port}/health`);
        assert.equal(response.status, 200, `instance ${instance.name} is alive`);
        await response.body?.cancel();
      }
    } catch (error) {
      const logs = await nginx?.log();
      throw new Error(`${(error as Error).message}\nnginx error log:\n${logs}`, { cause: error });
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      await nginx?.stop();
      await Promise.all(instances.map((i) => i.child.stop("SIGTERM")));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
