/**
 * One host, all cores: `deno serve --parallel` runs one copy of the App per worker, all on one
 * port. Each copy has its own state (here a request counter; likewise sessions, limits and
 * metrics): nothing is shared between workers.
 */
import assert from "node:assert/strict";
import { withDenoServe } from "./_helpers.ts";
import { Peer } from "./_realtime_helpers.ts";
import { WORKER_HEADER } from "./fixtures/worker_app.ts";

Deno.test("deno serve --parallel with 2 workers: both answer, each with its own state", async () => {
  await withDenoServe("tests/fixtures/worker_app.ts", 2, async (url, port) => {
    const counts = new Map<string, number[]>();
    // New connections are spread over the workers; 200 of them reach both unless one of two
    // workers never answers.
    for (let i = 0; i < 200 && !(counts.size === 2 && i >= 20); i++) {
      const response = await fetch(`${url}/whoami`, {
        method: "POST",
        headers: { connection: "close" },
      });
      const body = await response.json() as { worker: string; count: number };
      assert.equal(response.headers.get(WORKER_HEADER), body.worker);
      counts.set(body.worker, [...counts.get(body.worker) ?? [], body.count]);
    }
    assert.equal(counts.size, 2, `workers that answered: ${[...counts.keys()]}`);
    // Per-worker state: each worker counted its own requests from 1.
    for (const [worker, seen] of counts) {
      assert.deepEqual(seen, seen.map((_, i) => i + 1), `${worker} counts its own requests`);
    }
    // Realtime sessions land on either worker and are served there.
    const workers = new Set<string>();
    for (let i = 0; i < 40 && workers.size < 2; i++) {
      await using peer = await Peer.open(`ws://127.0.0.1:${port}/realtime`);
      peer.send({ n: i });
      const output = await peer.output() as { n: number; worker: string };
      assert.equal(output.n, i);
      assert.ok(counts.has(output.worker), `${output.worker} is one of the two workers`);
      workers.add(output.worker);
    }
    assert.equal(workers.size, 2, "both workers served realtime sessions");
  });
});
