/**
 * Several hosts: `deploy/nginx.conf` loaded into a real nginx (Debian's package) in front of two
 * rally instances, each its own `rally serve` process. Clients use rally's callback client
 * (`connect()`) through nginx; the instance that holds clients is killed mid-run; its clients
 * must reconnect by themselves to the other one, and every input sent after the reconnect must
 * get its output.
 *
 * Run with `deno task test:deploy` (not part of `deno task test`: it needs nginx). Without
 * nginx the tests are skipped, unless `CI=true`, where they fail.
 */
import assert from "node:assert/strict";
import { connect, type RealtimeError, type RealtimeHandle } from "../../client/mod.ts";
import { freePort } from "../_helpers.ts";
import { delay, waitFor, within } from "../_realtime_helpers.ts";
import { CI, generateConf, NGINX, startInstance, startNginx } from "./_nginx.ts";

type Output = { n: number; worker: string };

/** One callback client through nginx, with everything it saw. */
class Client {
  readonly handle: RealtimeHandle<{ n: number }>;
  readonly outputs: Output[] = [];
  readonly errors: RealtimeError[] = [];
  readonly closes: number[] = [];
  opens = 0;
  closed = Promise.withResolvers<void>();
  #closing = false;

  constructor(url: string) {
    this.handle = connect<{ n: number }, Output>(url, {
      path: "/realtime",
      reconnect: { baseMs: 100, capMs: 1_000, attempts: 20 },
      onResult: (output) => this.outputs.push(output),
      onError: (error) => this.errors.push(error),
      onOpen: () => this.opens++,
      onClose: ({ code }) => {
        this.closes.push(code);
        if (this.#closing) this.closed.resolve();
      },
    });
  }

  /** The worker that answered last. */
  get worker(): string | undefined {
    return this.outputs.at(-1)?.worker;
  }

  async close() {
    this.#closing = true;
    this.handle.close();
    await within(this.closed.promise, "the client to close");
  }
}

/** Send `count` inputs from `from` on, one every `everyMs`. */
async function sendSome(client: Client, from: number, count: number, everyMs = 5) {
  for (let n = from; n < from + count; n++) {
    client.handle.send({ n });
    await delay(everyMs);
  }
}

function hasOutputs(client: Client, ns: readonly number[]): boolean {
  const got = new Set(client.outputs.map((o) => o.n));
  return ns.every((n) => got.has(n));
}

async function failover(signal: "SIGKILL" | "SIGTERM") {
  const dir = await Deno.makeTempDir({ prefix: "rally-nginx-" });
  const instances = await Promise.all([startInstance("a"), startInstance("b")]);
  const nginxPort = freePort();
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  const clients: Client[] = [];
  try {
    const conf = await generateConf(dir, nginxPort, instances.map((i) => i.port));
    nginx = await startNginx(dir, conf, nginxPort);
    for (let i = 0; i < 8; i++) clients.push(new Client(nginx.url));
    // While connecting, connect() keeps only the newest input: wait for the sessions.
    await waitFor(() => clients.every((c) => c.opens === 1), "the clients to connect");

    // Before: every client gets its outputs; round robin spreads them over both instances.
    await Promise.all(clients.map((c) => sendSome(c, 0, 20)));
    const before = [...Array(20).keys()];
    await waitFor(() => clients.every((c) => hasOutputs(c, before)), "the first outputs");
    const holders = new Set(clients.map((c) => c.worker!.split("-")[0]));
    assert.equal(holders.size, 2, "nginx spread the sessions over both instances");

    // Kill the instance that holds the first client, while every client is sending.
    const victim = instances.find((i) => clients[0].worker!.startsWith(`${i.name}-`))!;
    const survivor = instances.find((i) => i !== victim)!;
    const moved = clients.filter((c) => c.worker!.startsWith(`${victim.name}-`));
    const stayed = clients.filter((c) => !moved.includes(c));
    const sending = clients.map((c) => sendSome(c, 1_000, 40, 10));
    await delay(100);
    const stopped = victim.child.stop(signal);
    await Promise.all(sending);
    const status = await stopped;
    if (signal === "SIGTERM") assert.equal(status.code, 0, victim.child.output());

    // Its clients reconnect by themselves, through nginx, to the survivor.
    await waitFor(
      () => moved.every((c) => c.opens === 2),
      "the moved clients to reconnect",
      20_000,
    );
    assert.ok(stayed.every((c) => c.opens === 1), "the other clients kept their sessions");

    // Every input sent after the reconnect gets its output, from the survivor.
    await Promise.all(clients.map((c) => sendSome(c, 2_000, 50)));
    const after = Array.from({ length: 50 }, (_, k) => 2_000 + k);
    await waitFor(
      () => clients.every((c) => hasOutputs(c, after)),
      "every output after the reconnect",
    );
    for (const c of clients) {
      const late = c.outputs.filter((o) => o.n >= 2_000);
      assert.deepEqual(late.map((o) => o.n), after, "once each, in order");
      assert.ok(late.every((o) => o.worker.startsWith(`${survivor.name}-`)), "from the survivor");
    }
    for (const c of moved) {
      // After a crash the client sees an abnormal close; after SIGTERM, SHUTTING_DOWN, then 1001.
      // Through nginx the 1001 sometimes arrives as 1006 (about 1 run in 8 here): the instance
      // has had the client's close reply (its session ends within a few ms), but the TCP teardown
      // of both hops races the close frame at the client. SHUTTING_DOWN always comes first, and
      // the direct shutdown tests check 1001 itself.
      assert.equal(c.closes.length, 1);
      if (signal === "SIGKILL") assert.equal(c.closes[0], 1006);
      else {
        assert.ok([1001, 1006].includes(c.closes[0]), `close code ${c.closes[0]}`);
        assert.equal(c.errors[0]?.code, "SHUTTING_DOWN");
      }
    }
    for (const c of stayed) assert.deepEqual(c.closes, []);
    assert.ok(
      clients.every((c) => c.errors.every((e) => e.code === "SHUTTING_DOWN")),
      `no other errors: ${clients.flatMap((c) => c.errors.map((e) => e.message))}`,
    );
    // The clients that stayed lost nothing, even during the failover.
    for (const c of stayed) {
      assert.ok(hasOutputs(c, Array.from({ length: 40 }, (_, k) => 1_000 + k)));
    }
    console.log(
      `${signal} on instance ${victim.name}: ${moved.length} clients moved to ` +
        `${survivor.name}, ${stayed.length} stayed; every input after the reconnect answered`,
    );
  } catch (error) {
    const logs = await nginx?.log();
    throw new Error(`${(error as Error).message}\nnginx error log:\n${logs}`, { cause: error });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await nginx?.stop();
    await Promise.all(instances.map((i) => i.child.stop("SIGTERM")));
    await Deno.remove(dir, { recursive: true });
  }
}

const missing = NGINX === undefined;
if (missing && !CI) console.warn("nginx is not installed: skipping the deploy tests");

Deno.test({
  name: "nginx in front of two rally instances: when one crashes, its clients move to the other",
  ignore: missing && !CI,
  async fn() {
    assert.ok(!missing, "nginx is required with CI=true (apt-get install nginx)");
    await failover("SIGKILL");
  },
});

Deno.test({
  name:
    "nginx in front of two rally instances: when one drains on SIGTERM, its clients move to the other",
  ignore: missing && !CI,
  async fn() {
    assert.ok(!missing, "nginx is required with CI=true (apt-get install nginx)");
    await failover("SIGTERM");
  },
});
