/**
 * File descriptors run out (issue 12, item 2): a `rally serve` child under `ulimit -n 64` is
 * exhausted by idle TCP connections that never send a byte. Deno's accept loop then fails with
 * EMFILE; the server must not die of it, must keep serving the connections it has, log the
 * condition once, and serve new ones again as soon as descriptors are free.
 *
 * @module
 */
import assert from "node:assert/strict";
import { realtime } from "../client/mod.ts";
import { ROOT } from "./_helpers.ts";
import { waitFor, within } from "./_realtime_helpers.ts";

/** The open-files limit of the child: low, with the hard limit as low, so nothing can raise it. */
const LIMIT = 64;
/** More idle connections than the child has descriptors. */
const ATTACKERS = 100;

/** A child process run through bash (for `ulimit`), its output collected. */
function spawnShell(script: string) {
  const process = new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    env: { NO_COLOR: "1", RALLY_LOG: "off" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const pumped = Promise.all([pump(process.stdout), pump(process.stderr)]);
  let exited = false;
  const status = process.status.then((status) => {
    exited = true;
    return status;
  });
  return {
    output: () => text,
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) process.kill("SIGTERM");
      const result = await within(status, "the child to exit").catch(async (error) => {
        process.kill("SIGKILL");
        await status;
        throw error;
      });
      await pumped;
      return result;
    },
    async done() {
      const result = await within(status, "the child to exit");
      await pumped;
      return result;
    },
  };
}

Deno.test("a server out of file descriptors keeps its sessions, logs once, and serves again once they are free", async () => {
  const child = spawnShell(
    `ulimit -n ${LIMIT}; exec "${Deno.execPath()}" run -A cli.ts serve ` +
      "tests/fixtures/fuzz_app.ts --port 0 --host 127.0.0.1",
  );
  const idle: Deno.Conn[] = [];
  try {
    await waitFor(
      () => /on http:\/\/127\.0\.0\.1:\d+\//.test(child.output()),
      "the child to listen",
    );
    const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)\//.exec(child.output())![1]);
    const url = `http://127.0.0.1:${port}`;

    // A good client with a session open before the attack.
    await using good = await realtime<{ n: number }, { echo: { n: number } }>(url, { path: "/rt" });
    good.send({ n: 1 });
    assert.deepEqual((await good.receive())?.echo, { n: 1 });

    // Idle connections that never send a byte, until the server stops accepting.
    for (let i = 0; i < ATTACKERS; i++) {
      try {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch (error) {
        // Refused once the listener has gone; reset when it goes with this one in its backlog.
        assert.ok(
          error instanceof Deno.errors.ConnectionRefused ||
            error instanceof Deno.errors.ConnectionReset,
          String(error),
        );
        break;
      }
    }
    await waitFor(
      () => child.output().includes("out of file descriptors"),
      `the child to run out of descriptors (${idle.length} idle connections)`,
    );
    assert.ok(!child.exited, child.output());

    // During: the session opened before is still served.
    good.send({ n: 2 });
    assert.deepEqual((await good.receive())?.echo, { n: 2 });

    // After: the idle connections go, and a new client is served on the same port.
    for (const conn of idle.splice(0)) conn.close();
    await waitFor(() => child.output().includes("again on"), "the child to listen again");
    const response = await fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 3 }),
    });
    assert.deepEqual((await response.json()).echo, { n: 3 });
    good.send({ n: 4 });
    assert.deepEqual((await good.receive())?.echo, { n: 4 });

    assert.ok(!child.exited, "the child is alive");
    const lines = child.output().split("\n");
    assert.equal(lines.filter((line) => line.includes("out of file descriptors")).length, 1);
    assert.match(child.output(), /ulimit -n, now 64 \(hard 64\)/);
    assert.doesNotMatch(child.output(), /Uncaught/);
  } finally {
    for (const conn of idle) conn.close();
    const status = await child.stop();
    assert.equal(status.code, 0, child.output());
  }
});

Deno.test("Deno raises the soft open-files limit to the hard limit at start", async () => {
  // rally relies on this (Deno has no setrlimit API): a soft limit below the hard one is raised.
  const child = spawnShell(
    `ulimit -Sn 100; exec "${Deno.execPath()}" eval ` +
      `'console.log(Deno.readTextFileSync("/proc/self/limits"))'`,
  );
  const status = await child.done();
  assert.equal(status.code, 0, child.output());
  const [soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(child.output())!.slice(1);
  assert.equal(soft, hard, child.output());
  assert.notEqual(soft, "100");
});
