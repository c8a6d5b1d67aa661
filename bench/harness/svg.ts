/**
 * The report's chart, hand-written SVG: round-trip p50 and p99 per variant as dots on a shared
 * log axis (equal distances are equal ratios; no bars, whose lengths a log axis distorts),
 * grouped into floors, other frameworks and rally, each rally variant labelled with its p50 as
 * a ratio of its floor's. A run on a machine that was not quiet carries the warning.
 *
 * @module
 */
import { type Machine, machineLine } from "./machine.ts";
import type { Measurements } from "./targets.ts";
import type { LatencyResult } from "./scenarios.ts";
import { UNPINNED_VARIANTS, type Variant, VARIANTS } from "./variants.ts";

/** One variant's row. */
export interface ChartRow {
  /** The variant's name. */
  label: string;
  /** Median round trip, µs. */
  p50: number;
  /** 99th percentile, µs. */
  p99: number;
  /** Its p50 over its floor's, when it has a floor in the same run. */
  ratio?: { value: number; floor: string };
}

/** Rows under one heading (floors, another framework, rally). */
export interface ChartGroup {
  /** The heading. */
  name: string;
  /** Its rows, in display order. */
  rows: ChartRow[];
}

/** One measurement of the chart (pinned, unpinned), its groups under a title. */
export interface ChartSection {
  /** The section's title. */
  title: string;
  /** Its groups; empty ones are left out. */
  groups: ChartGroup[];
}

const P50 = "#3b6fb6";
const P99 = "#e39b3b";
const GROUP_NAMES: Record<Variant["group"], string> = {
  floor: "Floors: bare Deno or bare libwebrtc, no framework",
  framework: "Another framework",
  rally: "rally (ratio: p50 over its floor's p50)",
};

/** Escape text for SVG. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Ticks of the 1-2-5 sequence covering `min` to `max` (powers of ten alone past 3 decades). */
function ticks(min: number, max: number): number[] {
  const out: number[] = [];
  const steps = Math.log10(max / min) > 3 ? [1] : [1, 2, 5];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 10; decade *= 10) {
    for (const step of steps) {
      const tick = step * decade;
      if (tick >= min / 2 && tick <= max * 2) out.push(tick);
    }
  }
  return out;
}

/**
 * The chart's sections of one report run: the pinned round trips, then the unpinned ones "as
 * users run it".
 *
 * @param measurements The run's results.
 * @param pinning How the pinned section was placed (`client on CPU 0, servers on CPU 1`).
 * @returns The sections.
 */
export function roundTripSections(measurements: Measurements, pinning: string): ChartSection[] {
  const section = (
    title: string,
    results: Record<string, LatencyResult> | undefined,
    variants: readonly Variant[],
  ): ChartSection => ({
    title,
    groups: (["floor", "framework", "rally"] as const).map((group) => ({
      name: GROUP_NAMES[group],
      rows: variants.filter((v) => v.group === group && results?.[v.name]).map((v) => {
        const { p50, p99 } = results![v.name];
        const floor = v.floor === undefined ? undefined : results![v.floor]?.p50;
        return {
          label: v.name,
          p50,
          p99,
          ...(floor ? { ratio: { value: p50 / floor, floor: v.floor! } } : {}),
        };
      }),
    })),
  });
  return [
    section(`Pinned (${pinning})`, measurements.sequential, VARIANTS),
    section(
      "As users run it: client and servers unpinned, rally serve with its default log",
      measurements.unpinned,
      UNPINNED_VARIANTS,
    ),
  ];
}

/**
 * Draw p50 and p99 dots per row on a shared log axis, rows grouped under headings.
 *
 * @param title Chart title.
 * @param sections The measurements, each with its groups of rows.
 * @param note A footer line (the run and the machine).
 * @param warning Shown in a banner at the top when given (the machine was not quiet).
 * @returns The SVG document.
 */
export function latencyChart(
  title: string,
  sections: readonly ChartSection[],
  note: string,
  warning?: string,
): string {
  const left = 170, area = 470, right = 190, rowHeight = 20, headHeight = 22;
  const width = left + area + right;
  const shown = sections.map((s) => ({ ...s, groups: s.groups.filter((g) => g.rows.length) }))
    .filter((s) => s.groups.length);
  const rows = shown.flatMap((s) => s.groups.flatMap((g) => g.rows));
  const values = rows.flatMap((r) => [r.p50, r.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const grid = ticks(Math.min(...values, 10), Math.max(...values, 100));
  const low = Math.log10(grid[0]), high = Math.log10(grid[grid.length - 1]);
  const x = (v: number) => left + ((Math.log10(v) - low) / (high - low)) * area;
  const top = (warning ? 84 : 62) + 6;
  const out: string[] = [];
  let y = top;
  for (const section of shown) {
    out.push(
      `<text x="8" y="${y + 14}" font-size="13" font-weight="bold">${escape(section.title)}</text>`,
    );
    y += headHeight + 2;
    for (const group of section.groups) {
      out.push(
        `<rect x="4" y="${y}" width="${width - 8}" height="${headHeight - 4}" fill="#f1f1f1"/>`,
        `<text x="12" y="${y + 13}" fill="#333" font-style="italic">${escape(group.name)}</text>`,
      );
      y += headHeight;
      for (const row of group.rows) {
        const mid = y + rowHeight / 2;
        const ok = (v: number) => Number.isFinite(v) && v > 0;
        out.push(
          `<text x="${left - 10}" y="${mid + 4}" text-anchor="end">${escape(row.label)}</text>`,
        );
        if (ok(row.p50) && ok(row.p99)) {
          out.push(
            `<line x1="${x(row.p50).toFixed(1)}" y1="${mid}" x2="${
              x(row.p99).toFixed(1)
            }" y2="${mid}" stroke="#bbb" stroke-width="2"/>`,
          );
        }
        if (ok(row.p99)) {
          out.push(
            `<circle cx="${
              x(row.p99).toFixed(1)
            }" cy="${mid}" r="4.5" fill="white" stroke="${P99}" stroke-width="2"/>`,
          );
        }
        if (ok(row.p50)) {
          out.push(`<circle cx="${x(row.p50).toFixed(1)}" cy="${mid}" r="5" fill="${P50}"/>`);
        }
        const ratio = row.ratio
          ? ` · ${row.ratio.value.toFixed(2)}× ${escape(row.ratio.floor)}`
          : "";
        out.push(
          `<text x="${left + area + 12}" y="${mid + 4}"><tspan font-weight="bold">${
            ok(row.p50) ? row.p50.toFixed(0) : "–"
          }</tspan> / ${ok(row.p99) ? row.p99.toFixed(0) : "–"}${ratio}</text>`,
        );
        y += rowHeight;
      }
    }
    y += 8;
  }
  const bottom = y;
  const lines = grid.map((tick) =>
    `<line x1="${x(tick).toFixed(1)}" y1="${top}" x2="${
      x(tick).toFixed(1)
    }" y2="${bottom}" stroke="#e2e2e2"/>` +
    `<text x="${x(tick).toFixed(1)}" y="${
      bottom + 14
    }" text-anchor="middle" fill="#555">${tick}</text>`
  );
  const height = bottom + 44;
  const banner = warning
    ? `<rect x="4" y="56" width="${width - 8}" height="22" fill="#fde8d0" stroke="#d9822b"/>
  <text x="12" y="71" fill="#8a4500" font-weight="bold">⚠ ${escape(warning)}</text>`
    : "";
  const legendY = 46;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="8" y="22" font-size="15" font-weight="bold">${escape(title)}</text>
  <circle cx="14" cy="${legendY - 4}" r="5" fill="${P50}"/><text x="24" y="${legendY}">p50</text>
  <circle cx="64" cy="${
    legendY - 4
  }" r="4.5" fill="white" stroke="${P99}" stroke-width="2"/><text x="74" y="${legendY}">p99</text>
  <text x="114" y="${legendY}" fill="#555">µs on a log axis: equal distances are equal ratios. Right: p50 / p99 µs · p50 over its floor's</text>
  ${banner}
  ${lines.join("\n  ")}
  ${out.join("\n  ")}
  <text x="8" y="${height - 10}" font-size="11" fill="#555">${escape(note)}</text>
</svg>
`;
}

/** What a report run records (`bench/results/latest.json`), as far as the chart reads it. */
export interface RunRecord {
  /** When it ran, ISO 8601. */
  date: string;
  /** `full` or `quick`. */
  mode: string;
  /** The machine. */
  machine: Machine;
  /** How client and servers were placed. */
  pinning: string;
  /** Other load during the timed scenarios, in cores, when it could be read. */
  disturbance?: { otherCores: number; stealCores: number };
  /** The results. */
  measurements: Measurements;
}

/** Other load (cores busy with other processes plus stolen) past which a run is not quiet. */
export const QUIET_CORES = 0.2;

/**
 * The warning of a run whose machine was not quiet.
 *
 * @param disturbance Other load during the timed scenarios, in cores.
 * @returns The warning, or `undefined` for a quiet run (or one where the load is unknown).
 */
export function quietWarning(disturbance: RunRecord["disturbance"]): string | undefined {
  if (!disturbance || disturbance.otherCores + disturbance.stealCores <= QUIET_CORES) {
    return undefined;
  }
  return `The machine was not quiet: ${disturbance.otherCores.toFixed(2)} cores busy with ` +
    `other processes, ${disturbance.stealCores.toFixed(2)} stolen; absolute figures are noisy.`;
}

/**
 * The round-trip chart of one report run.
 *
 * @param run The run's record.
 * @returns The SVG document.
 */
export function roundTripChart(run: RunRecord): string {
  return latencyChart(
    "Round trip, one message in flight (µs)",
    roundTripSections(run.measurements, run.pinning),
    `${run.mode} run ${run.date.slice(0, 10)}: ${machineLine(run.machine)}; ${run.pinning}`,
    quietWarning(run.disturbance),
  );
}
