/**
 * The report as markdown: one table per scenario, then the targets.
 *
 * @module
 */
import type { IdleResult, LatencyResult } from "./scenarios.ts";
import type { Measurements, TargetResult, VideoResult } from "./targets.ts";
import { BASELINE } from "./variants.ts";

/** Format a number with `digits` decimals, or "–" when it is not finite. */
function num(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

/** A markdown table. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Latency rows, with the p50 relative to the baseline's. */
function latencyTable(results: Record<string, LatencyResult>, baseline = BASELINE): string {
  const base = results[baseline]?.p50;
  return table(
    [
      "variant",
      "p50",
      "p90",
      "p99",
      "p99.9",
      "median of round p50s",
      "server CPU µs/msg",
      "n",
      `p50 / ${baseline}`,
    ],
    Object.entries(results).map(([name, r]) => [
      name,
      num(r.p50, 1),
      num(r.p90, 1),
      num(r.p99, 1),
      num(r.p999, 1),
      num(r.medianOfRoundMedians, 1),
      num(r.serverCpuUs, 1),
      String(r.count),
      num(base === undefined ? undefined : r.p50 / base, 2),
    ]),
  );
}

/** Throughput rows: one column pair per depth. */
function throughputTable(pipelined: Measurements["pipelined"]): string {
  const depths = Object.keys(pipelined);
  const names = [...new Set(depths.flatMap((d) => Object.keys(pipelined[d])))];
  return table(
    ["variant", ...depths.flatMap((d) => [`${d} in flight msgs/s`, `server CPU µs/msg`])],
    names.map((name) => [
      name,
      ...depths.flatMap((
        d,
      ) => [num(pipelined[d][name]?.msgsPerSecond), num(pipelined[d][name]?.serverCpuUs, 1)]),
    ]),
  );
}

/** Idle-session rows. */
function idleTable(idle: Record<string, IdleResult>): string {
  return table(
    ["variant", "sessions", "server RSS KiB/session", "server heap KiB/session"],
    Object.entries(idle).map(([name, r]) => [
      name,
      String(r.sessions),
      num(r.rssPerSession / 1024, 1),
      num(r.heapPerSession / 1024, 1),
    ]),
  );
}

/** Target rows with pass/fail marks. */
function targetTable(targets: readonly TargetResult[]): string {
  return table(
    ["target", "measured", "limit", "result"],
    targets.map((t) => [
      t.name,
      num(t.value, 2),
      `${t.relation === "<=" ? "≤" : "≥"} ${t.limit}`,
      t.pass === null ? "n/a" : t.pass ? "✅ pass" : "❌ fail",
    ]),
  );
}

/**
 * Render one run's results.
 *
 * @param title The heading (mode, date, machine).
 * @param measurements The results.
 * @param targets The evaluated targets.
 * @returns Markdown.
 */
export function renderMarkdown(
  title: string,
  measurements: Measurements,
  targets: readonly TargetResult[],
): string {
  return [
    `## ${title}`,
    "### Sequential round trips, one message in flight (µs)",
    latencyTable(measurements.sequential),
    "### As users run it: sequential HTTP round trips, client and servers unpinned (µs)",
    "`rally serve` with its default log (one JSON line per request on stdout, read by the " +
    "bench as a log collector would), and with `RALLY_LOG=off`; the same bare fetch client " +
    "for all three.",
    latencyTable(measurements.unpinned ?? {}, "http-floor"),
    "### Pipelined (HTTP: concurrent requests)",
    throughputTable(measurements.pipelined),
    "### 100 KB payload each way, one in flight (µs; ws-floor = raw binary frame, webrtc-floor = raw DataChannel message)",
    latencyTable(measurements.payload),
    "### Idle sessions (fresh server process, after GC)",
    idleTable(measurements.idle),
    ...(measurements.video
      ? [
        "### Video track: frames through the server's video handler and back (ms)",
        videoTable(measurements.video),
      ]
      : []),
    "### Targets (ratios within this run)",
    targetTable(targets),
    "",
  ].join("\n\n");
}

/** The video-track table. */
function videoTable(results: Record<string, VideoResult>): string {
  const rows = Object.entries(results).map(([name, r]) =>
    `| ${name} | ${r.size} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${
      r.fps.toFixed(1)
    } | ` +
    `${r.lostPercent.toFixed(1)} | ${r.seconds.toFixed(1)} |`
  );
  return [
    "| variant | frame | p50 | p99 | fps | lost % | seconds |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
