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
      await delay(5);
    }
  })();
  return {
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
 * `ms`; fail with the figures otherwise.
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
  for (;;) {
    const stats = await server.stats();
    const grown = stats.memory.rss - baseline.memory.rss;
    const took = performance.now() - started;
    if (grown <= bound) return { stats, ms: took };
    assert.ok(
      took < ms,
      `RSS stayed ${mb(grown)} over its baseline (${mb(baseline.memory.rss)}) for ${ms} ms`,
    );
    await delay(200);
  }
}
