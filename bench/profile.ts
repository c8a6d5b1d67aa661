/**
 * Profile one variant's server under load: `deno run -A bench/profile.ts <variant>
 * [--depth 64] [--seconds 5] [--image] [--interval 1000]`. The server runs with `--cpu-prof`; the client keeps
 * `depth` messages in flight (HTTP: concurrent requests) for one second of warm-up, then for
 * `seconds`; then the server exits, its profile is written to `bench/results/profiles/`, and the
 * self time of the measured seconds (start-up, warm-up and exit left out) is printed by kind of
 * code and by function, in µs per message.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { summarizeProfile } from "./harness/cpuprofile.ts";
import { pinClient } from "./harness/process.ts";
import { startVariant, UNPINNED_VARIANTS, VARIANTS } from "./harness/variants.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    depth: { type: "string", default: "64" },
    seconds: { type: "string", default: "5" },
    image: { type: "boolean" },
    // V8's sampling interval in µs: at depth 1 a message takes tens of µs, so sample finer.
    interval: { type: "string", default: "1000" },
  },
});
const all = [...new Set([...VARIANTS, ...UNPINNED_VARIANTS])];
const variant = all.find((v) => v.name === positionals[0]);
if (!variant) {
  console.error(`Usage: profile.ts <${all.map((v) => v.name).join("|")}> [--depth N] ...`);
  Deno.exit(2);
}
const connect = values.image ? variant.image : variant.small;
if (!connect) throw new Error(`${variant.name} has no 100 KB payload client`);

const dir = new URL("./results/profiles/", import.meta.url).pathname;
await Deno.mkdir(dir, { recursive: true });
const before = new Set([...Deno.readDirSync(dir)].map((entry) => entry.name));
const spawned = performance.now();
const server = await startVariant(variant, {
  cpu: await pinClient(),
  flags: ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${values.interval}`],
});
let count = 0;
let from = 0, to = 0;
try {
  const driver = await connect(server);
  const depth = Number(values.depth);
  await driver.pipeline(depth, Infinity, performance.now() + 1000);
  from = performance.now();
  count = await driver.pipeline(depth, Infinity, from + Number(values.seconds) * 1000);
  to = performance.now();
  await driver.close();
} finally {
  await server.close();
}
const written = [...Deno.readDirSync(dir)].find((entry) => !before.has(entry.name));
if (!written) throw new Error(`No profile was written to ${dir}`);
const profilePath = `${dir}${written.name}`;
// The profile's clock starts when the process does, a little after `spawned`: the window is
// taken a little late, and ends 200 ms early so that it holds no exit.
const window = { fromMs: from - spawned, toMs: to - spawned - 200 };
const summary = summarizeProfile(await Deno.readTextFile(profilePath), window);
const messages = (count * (window.toMs - window.fromMs)) / (to - from);
const us = (share: number) => ((share * summary.totalMs * 1000) / messages).toFixed(2).padStart(7);
const idle = summary.kinds.find((kind) => kind.name === "(idle)")?.share ?? 0;
console.log(
  `${variant.name}: ${count} messages in ${((to - from) / 1000).toFixed(1)} s, ` +
    `${summary.totalMs.toFixed(0)} ms of them sampled, ` +
    `${us(1 - idle).trim()} µs of non-idle main-thread time per message`,
);
console.log(`profile: ${profilePath}\n\nself time by kind, µs per message:`);
for (const { name, share } of summary.kinds) console.log(`${us(share)}  ${name}`);
console.log("\nself time by function (top 30), µs per message:");
for (const { name, share } of summary.functions.slice(0, 30)) console.log(`${us(share)}  ${name}`);
