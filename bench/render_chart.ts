/**
 * Draw a report run's chart again from its record, without measuring:
 * `deno run -A bench/render_chart.ts [bench/results/latest.json]` writes `roundtrip.svg` next
 * to the record (for a change to the chart itself).
 *
 * @module
 */
import { roundTripChart, type RunRecord } from "./harness/svg.ts";

const path = Deno.args[0] ?? new URL("./results/latest.json", import.meta.url).pathname;
const run = JSON.parse(await Deno.readTextFile(path)) as RunRecord;
const svg = new URL("./roundtrip.svg", new URL(path, `file://${Deno.cwd()}/`));
await Deno.writeTextFile(svg, roundTripChart(run));
console.error(`wrote ${svg.pathname}`);
