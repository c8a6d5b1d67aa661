import assert from "node:assert/strict";
import {
  latencyChart,
  quietWarning,
  roundTripChart,
  roundTripSections,
} from "../bench/harness/svg.ts";
import type { LatencyResult } from "../bench/harness/scenarios.ts";
import type { Measurements } from "../bench/harness/targets.ts";
import { evaluateTargets } from "../bench/harness/targets.ts";
import { UNPINNED_VARIANTS } from "../bench/harness/variants.ts";
import { startServed } from "../bench/harness/served.ts";

/** A latency result with the given p50 and p99 (the rest made up to match). */
function latency(p50: number, p99: number): LatencyResult {
  return {
    p50,
    p90: p50 * 1.5,
    p99,
    p999: p99 * 2,
    medianOfRoundMedians: p50,
    count: 1000,
    serverCpuUs: 20,
  };
}

const MEASURED: Measurements = {
  sequential: {
    "ws-floor": latency(100, 400),
    "http-floor": latency(150, 600),
    "hono-ws": latency(110, 420),
    "rally-realtime": latency(106, 450),
    "rally-http-served": latency(162, 700),
  },
  unpinned: {
    "http-floor": latency(200, 900),
    "rally-http-served": latency(216, 1000),
    "rally-http-served-nolog": latency(210, 950),
  },
  pipelined: {},
  payload: {},
  idle: {},
};

/** The x of each `<circle>` in the chart, in order. */
function dots(svg: string): number[] {
  return [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((match) => Number(match[1]));
}

Deno.test("bench chart: groups floors, another framework and rally; dots, not bars; ratios labelled", () => {
  const svg = latencyChart(
    "Round trip",
    roundTripSections(MEASURED, "client on CPU 0, servers on CPU 1"),
    "note",
  );
  const order = [
    "Pinned (client on CPU 0, servers on CPU 1)",
    "Floors: bare Deno",
    "ws-floor",
    "http-floor",
    "Another framework",
    "hono-ws",
    "rally (ratio",
    "rally-realtime",
    "rally-http-served",
    "As users run it",
  ].map((text) => svg.indexOf(text));
  assert.ok(order.every((at) => at >= 0), `every heading and row is drawn: ${order}`);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "in group order");
  // Bars would be rects with a width that encodes a value: only the background, the group bands
  // and no banner are rects here.
  const rects = [...svg.matchAll(/<rect [^>]*>/g)].map((match) => match[0]);
  assert.ok(rects.every((rect) => /width="100%"|fill="#f1f1f1"/.test(rect)), rects.join("\n"));
  assert.match(svg, /1\.06× ws-floor/);
  assert.match(svg, /1\.08× http-floor/); // served p50 162 over the floor's 150
  assert.match(svg, /1\.05× http-floor/); // unpinned nolog 210 over 200
  assert.doesNotMatch(svg, /not quiet/);
});

Deno.test("bench chart: the axis is logarithmic (equal ratios, equal distances) and the warning is carried", () => {
  const row = (label: string, p50: number) => ({ label, p50, p99: p50 * 4 });
  const svg = latencyChart(
    "t",
    [{ title: "s", groups: [{ name: "g", rows: [row("a", 100), row("b", 200)] }] }],
    "note",
    "The machine was not quiet: 0.80 cores busy with other processes, 0.00 stolen",
  );
  // Legend dots first, then per row: p99 ring, p50 dot.
  const [, , a99, a50, b99, b50] = dots(svg);
  assert.ok(Math.abs((b50 - a50) - (a99 - a50) / 2) < 0.2, `${a50} ${b50} ${a99}`);
  assert.ok(Math.abs(b99 - a99 - (b50 - a50)) < 0.2);
  assert.match(svg, /⚠ The machine was not quiet: 0\.80 cores busy/);
});

Deno.test("bench targets: rally HTTP as users run it, pinned and unpinned, within 1.10× of the floor", () => {
  const targets = evaluateTargets(MEASURED);
  const served = targets.filter((t) => t.name.includes("rally-http-served"));
  assert.equal(served.length, 2);
  assert.deepEqual(served.map((t) => [t.value.toFixed(2), t.limit, t.pass]), [
    ["1.08", 1.1, true],
    ["1.08", 1.1, true],
  ]);
});

Deno.test("bench: rally serve as users run it answers, logs every request on stdout and stops on SIGTERM", async () => {
  const server = await startServed("bench/servers/served_app.ts");
  const driver = await UNPINNED_VARIANTS.find((v) => v.name === "rally-http-served")!.small(server);
  try {
    for (let i = 0; i < 20; i++) await driver.roundTrip();
    const { cpuUserUs, rss } = await server.stats();
    assert.ok(cpuUserUs > 0 && rss > 0, `read from /proc: ${cpuUserUs} µs, ${rss} B`);
  } finally {
    await driver.close();
    await server.close();
  }
  assert.equal(server.logLines, 20, "every request's log line, none lost at the stop");
});

Deno.test("bench chart of a run: the warning when other load passed 0.2 cores, none when quiet", () => {
  const run = {
    date: "2026-12-05T05:00:00.000Z",
    mode: "full",
    machine: { cores: 2, cpuModel: "cpu", deno: "2.9.6", v8: "14", os: "linux 6" },
    pinning: "client on CPU 0, servers on CPU 1",
    measurements: MEASURED,
  };
  const noisy = roundTripChart({ ...run, disturbance: { otherCores: 0.15, stealCores: 0.1 } });
  assert.match(
    noisy,
    /⚠ The machine was not quiet: 0\.15 cores busy with other processes, 0\.10 stolen/,
  );
  assert.match(noisy, /full run 2026-12-05: 2 cores, cpu, Deno 2\.9\.6, linux 6/);
  const quiet = roundTripChart({ ...run, disturbance: { otherCores: 0.1, stealCores: 0.05 } });
  assert.doesNotMatch(quiet, /not quiet/);
  assert.equal(quietWarning(undefined), undefined);
});
