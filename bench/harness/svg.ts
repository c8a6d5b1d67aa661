/**
 * A hand-written SVG bar chart of round-trip p50 and p99 per variant, on a log scale so that
 * both fit.
 *
 * @module
 */

/** One bar pair of the chart. */
export interface ChartRow {
  label: string;
  p50: number;
  p99: number;
}

/** Escape text for SVG. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Ticks of the 1-2-5 sequence from below `min` to above `max`. */
function ticks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 10; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const tick = step * decade;
      if (tick >= min / 2 && tick <= max * 2) out.push(tick);
    }
  }
  return out;
}

/**
 * Draw horizontal p50/p99 bars, one pair per row, on a shared log scale.
 *
 * @param title Chart title.
 * @param rows One entry per variant, in display order.
 * @param note A footer line (the machine).
 * @returns The SVG document.
 */
export function latencyChart(title: string, rows: readonly ChartRow[], note: string): string {
  const left = 150, area = 560, barHeight = 12, rowHeight = 34, top = 64;
  const width = left + area + 40;
  const height = top + rows.length * rowHeight + 44;
  const values = rows.flatMap((r) => [r.p50, r.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const grid = ticks(Math.min(...values, 10), Math.max(...values, 100));
  const low = Math.log10(grid[0]), high = Math.log10(grid[grid.length - 1]);
  const x = (v: number) =>
    Number.isFinite(v) && v > 0 ? ((Math.log10(v) - low) / (high - low)) * area : 0;
  const px = (v: number) => (left + x(v)).toFixed(1);
  const bottom = top + rows.length * rowHeight;
  const lines = grid.map((tick) =>
    `<line x1="${px(tick)}" y1="${top - 6}" x2="${px(tick)}" y2="${bottom}" stroke="#ddd"/>` +
    `<text x="${px(tick)}" y="${bottom + 14}" text-anchor="middle" fill="#555">${tick}</text>`
  );
  const bars = rows.map((row, i) => {
    const y = top + i * rowHeight;
    return [
      `<text x="${left - 8}" y="${y + barHeight + 4}" text-anchor="end">${
        escape(row.label)
      }</text>`,
      `<rect x="${left}" y="${y}" width="${
        x(row.p50).toFixed(1)
      }" height="${barHeight}" fill="#3b6fb6"/>`,
      `<text x="${(left + x(row.p50) + 4).toFixed(1)}" y="${y + barHeight - 2}">${
        row.p50.toFixed(0)
      }</text>`,
      `<rect x="${left}" y="${y + barHeight + 2}" width="${
        x(row.p99).toFixed(1)
      }" height="${barHeight}" fill="#e39b3b"/>`,
      `<text x="${(left + x(row.p99) + 4).toFixed(1)}" y="${y + 2 * barHeight}">${
        row.p99.toFixed(0)
      }</text>`,
    ].join("\n  ");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>
  <rect x="${left}" y="32" width="10" height="10" fill="#3b6fb6"/><text x="${
    left + 14
  }" y="41">p50</text>
  <rect x="${left + 60}" y="32" width="10" height="10" fill="#e39b3b"/><text x="${
    left + 74
  }" y="41">p99</text>
  <text x="${left + 120}" y="41" fill="#555">µs, log scale</text>
  ${lines.join("\n  ")}
  ${bars.join("\n  ")}
  <text x="8" y="${height - 10}" font-size="11" fill="#555">${escape(note)}</text>
</svg>
`;
}
