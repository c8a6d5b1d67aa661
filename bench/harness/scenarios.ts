/**
 * The measurement loops of the report: sequential round trips, pipelined throughput and idle
 * sessions. Variants are interleaved in rounds, the order rotating each round, and every loop
 * is bounded by a count and a time.
 *
 * @module
 */
import type { Driver } from "./drivers.ts";
import type { ServerProcess, ServerStats } from "./process.ts";
import { type LatencySummary, median, summarizeLatency } from "./stats.ts";
import { startVariant, type Variant } from "./variants.ts";

/** A bound on one loop: stop at `count` iterations or after `ms`, whichever comes first. */
export interface Budget {
  count: number;
  ms: number;
}

/** How a scenario is run. */
export interface RoundsConfig {
  /** Untimed work per variant before the first round. */
  warmup: Budget;
  /** Number of rounds. */
  rounds: number;
  /** Work per variant per round. */
  perRound: Budget;
}

/** A variant ready to measure: its server process and a connected client. */
export interface Contestant {
  name: string;
  server: ServerProcess;
  driver: Driver;
}

/** Latency of sequential round trips, plus the server's CPU time per message. */
export interface LatencyResult extends LatencySummary {
  /** Server CPU time (user + system, all threads) per round trip, in µs. */
  serverCpuUs: number;
}

/** Throughput with several messages in flight. */
export interface ThroughputResult {
  /** Messages in flight (HTTP: concurrent requests). */
  depth: number;
  /** Median over rounds of answers per second. */
  msgsPerSecond: number;
  /** Answers over all rounds. */
  count: number;
  /** Server CPU time per answer, in µs. */
  serverCpuUs: number;
}

/** Server memory taken by idle sessions. */
export interface IdleResult {
  /** Sessions opened. */
  sessions: number;
  /** Growth of the server's RSS per session, in bytes. */
  rssPerSession: number;
  /** Growth of the server's V8 heap per session, in bytes. */
  heapPerSession: number;
}

/** CPU time between two stats snapshots, in µs. */
function cpuUs(before: ServerStats, after: ServerStats): number {
  return after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
}

/** The contestants in round `round`'s order: the list rotated by `round`. */
function rotated<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Run sequential round trips within `budget`, untimed. */
async function warmUp(driver: Driver, budget: Budget): Promise<void> {
  const deadline = performance.now() + budget.ms;
  for (let i = 0; i < budget.count && performance.now() < deadline; i++) await driver.roundTrip();
}

/**
 * Time sequential round trips (one message in flight), each with `performance.now()`.
 *
 * @param contestants The variants, connected.
 * @param config Warm-up, rounds and per-round budget.
 * @returns Latency and server CPU per message, by variant name.
 */
export async function measureLatency(
  contestants: readonly Contestant[],
  config: RoundsConfig,
): Promise<Record<string, LatencyResult>> {
  for (const c of contestants) await warmUp(c.driver, config.warmup);
  const samples = new Map(contestants.map((c) => [c.name, [] as Float64Array[]]));
  const cpu = new Map(contestants.map((c) => [c.name, 0]));
  for (let round = 0; round < config.rounds; round++) {
    for (const c of rotated(contestants, round)) {
      const times = new Float64Array(config.perRound.count);
      const before = await c.server.stats();
      const deadline = performance.now() + config.perRound.ms;
      let n = 0;
      while (n < times.length) {
        const start = performance.now();
        await c.driver.roundTrip();
        const end = performance.now();
        times[n++] = (end - start) * 1000;
        if (end > deadline) break;
      }
      cpu.set(c.name, cpu.get(c.name)! + cpuUs(before, await c.server.stats()));
      samples.get(c.name)!.push(times.subarray(0, n));
    }
  }
  return Object.fromEntries(contestants.map((c) => {
    const summary = summarizeLatency(samples.get(c.name)!);
    return [c.name, { ...summary, serverCpuUs: cpu.get(c.name)! / summary.count }];
  }));
}

/**
 * Measure answers per second with `depth` messages in flight.
 *
 * @param contestants The variants, connected.
 * @param depth Messages in flight (HTTP: concurrent requests).
 * @param config Warm-up, rounds and per-round budget.
 * @returns Throughput and server CPU per message, by variant name.
 */
export async function measureThroughput(
  contestants: readonly Contestant[],
  depth: number,
  config: RoundsConfig,
): Promise<Record<string, ThroughputResult>> {
  for (const c of contestants) {
    await c.driver.pipeline(depth, config.warmup.count, performance.now() + config.warmup.ms);
  }
  const rates = new Map(contestants.map((c) => [c.name, [] as number[]]));
  const totals = new Map(contestants.map((c) => [c.name, { count: 0, cpu: 0 }]));
  for (let round = 0; round < config.rounds; round++) {
    for (const c of rotated(contestants, round)) {
      const before = await c.server.stats();
      const start = performance.now();
      const n = await c.driver.pipeline(depth, config.perRound.count, start + config.perRound.ms);
      const seconds = (performance.now() - start) / 1000;
      const total = totals.get(c.name)!;
      total.cpu += cpuUs(before, await c.server.stats());
      total.count += n;
      rates.get(c.name)!.push(n / seconds);
    }
  }
  return Object.fromEntries(contestants.map((c) => {
    const { count, cpu } = totals.get(c.name)!;
    return [c.name, {
      depth,
      msgsPerSecond: median(rates.get(c.name)!),
      count,
      serverCpuUs: cpu / count,
    }];
  }));
}

/**
 * Measure a fresh server process's memory growth for `sessions` idle sessions of `variant`.
 * The server is warmed by one session first, and garbage is collected before each reading.
 *
 * @param variant A variant whose client keeps a session open.
 * @param sessions How many sessions to open.
 * @param budget Bound on opening them (`count` is the number opened at once).
 * @param cpu The CPU to pin the server to, if any.
 * @returns Memory per session.
 */
export async function measureIdleSessions(
  variant: Variant,
  sessions: number,
  budget: Budget,
  cpu?: number,
): Promise<IdleResult> {
  const server = await startVariant(variant, { cpu });
  const open: Driver[] = [];
  try {
    const first = await variant.small(server);
    await warmUp(first, { count: 100, ms: 2000 });
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = await server.gcStats();
    const deadline = performance.now() + budget.ms;
    while (open.length < sessions && performance.now() < deadline) {
      const batch = Math.min(budget.count, sessions - open.length);
      open.push(...await Promise.all(Array.from({ length: batch }, () => variant.small(server))));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await server.gcStats();
    return {
      sessions: open.length,
      rssPerSession: (after.rss - before.rss) / open.length,
      heapPerSession: (after.heapUsed - before.heapUsed) / open.length,
    };
  } finally {
    await Promise.all(open.map((driver) => driver.close()));
    await server.close();
  }
}
