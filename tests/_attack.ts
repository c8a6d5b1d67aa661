/**
 * Helpers for the attack tests (issue 12): a good client that keeps asking the fuzz App's `/rt`
 * endpoint while an attack runs and reports its round trips, and a bounded wait for the child
 * server's RSS to come back near its baseline.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChildServer, mb, type Stats } from "./_child_server.ts";
import { delay, Peer } from "./_realtime_helpers.ts";

/** A good client running alongside an attack. */
export interface GoodClient {
  /**
   * Stop asking, check every answer was right, and report.
   *
   * @returns How many round trips, and the slowest and median, in ms.
   */
  stop(): Promise<{ count: number; p50: number; max: number }>;
  /**
   * How many round trips so far.
   *
   * @returns The count.
   */
  served(): number;
}

/**
 * Start a good client: one input at a time on `/rt`, each answer checked.
 *
 * @param server The child server.
 * @returns The running client.
 */
export async function goodClient(server: ChildServer): Promise<GoodClient> {
  const peer = await Peer.open(`${server.ws}/rt`);
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const started = performance.now();
      peer.send({ n });
      assert.deepEqual(await peer.output(), { echo: { n }, size: 0 }, "the good client's answer");
      times.push(performance.now() - started);
      await delay(5); // pacing: one input every ~5 ms, not synchronisation
    }
  })();
  // Reported by stop(); a test that fails first (and so stops the server) reports its own error
  // rather than this loop's unhandled rejection.
  loop.catch(() => {});
  return {
    served: () => times.length,
    async stop() {
      running = false;
      await loop;
      await peer.close();
      const sorted = times.toSorted((a, b) => a - b);
      return {
        count: sorted.length,
        p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
        max: sorted.at(-1) ?? 0,
      };
    },
  };
}

/**
 * Wait until the server's RSS (after a full GC) is within `bound` of `baseline`, polling for up to
 * `ms`, and past `ms` for as long as it is still falling (up to `3 * ms` in all): a loaded machine
 * may be slow to hand pages back, and how fast is not what the bound is about. Fail with the
 * figures once it is over the bound and has stopped falling.
 *
 * @param server The child server.
 * @param baseline Its stats before the attack.
 * @param bound The growth allowed, in bytes.
 * @param ms How long it may take.
 * @returns The last stats and how long it took, in ms.
 */
export async function rssReturns(
  server: ChildServer,
  baseline: Stats,
  bound: number,
  ms = 5_000,
): Promise<{ stats: Stats; ms: number }> {
  const started = performance.now();
  let lowest = Infinity;
  let lowestAt = started;
  for (;;) {
    const stats = await server.stats();
    const grown = stats.memory.rss - baseline.memory.rss;
    const now = performance.now();
    const took = now - started;
    if (grown <= bound) return { stats, ms: took };
    // Falling by at least 1 MiB counts as still settling.
    if (stats.memory.rss < lowest - 2 ** 20) [lowest, lowestAt] = [stats.memory.rss, now];
    const falling = now - lowestAt < 1_000;
    assert.ok(
      took < ms || (falling && took < 3 * ms),
      `RSS stayed ${mb(grown)} over its baseline (${mb(baseline.memory.rss)}) for ${
        took.toFixed(0)
      } ms (bound ${mb(bound)}), no longer falling`,
    );
    await delay(200); // bounded poll of a value that only time changes
  }
}
