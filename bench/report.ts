/**
 * The bench report, the measurement of record: `deno task bench:report [--quick] [--record]`.
 *
 * Every variant's server runs in its own process. Variants are interleaved in rounds (order
 * rotated each round, after a warm-up); each message is timed with `performance.now()`.
 * Prints a markdown table and writes `latest.json` and `roundtrip.svg` to the ignored folder
 * `.out/bench/`; `--record` writes them to `bench/results/` instead, updating the record that
 * the README shows. `--quick` is a smoke run of well under 60 s. With two or more
 * cores and `taskset`, the client (this process) runs on CPU 0 and the servers on CPU 1;
 * `--no-pin` leaves placement to the OS. Before pinning, the "as users run it" scenario times
 * sequential HTTP round trips with client and servers unpinned: the floor against `rally serve`
 * with its default log (and with `RALLY_LOG=off`).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import type { Driver } from "./harness/drivers.ts";
import { describeMachine, machineCpu, machineLine } from "./harness/machine.ts";
import { pinClient, type ServerProcess } from "./harness/process.ts";
import { renderMarkdown } from "./harness/render.ts";
import {
  type Budget,
  type Contestant,
  measureIdleSessions,
  measureLatency,
  measureThroughput,
  type RoundsConfig,
} from "./harness/scenarios.ts";
import { quietWarning, roundTripChart } from "./harness/svg.ts";
import { evaluateTargets, type Measurements } from "./harness/targets.ts";
import { startVariant, UNPINNED_VARIANTS, type Variant, VARIANTS } from "./harness/variants.ts";
import { measureVideo } from "./harness/video.ts";

/** Budgets of one report mode. */
interface ReportConfig {
  sequential: RoundsConfig;
  pipelined: RoundsConfig;
  depths: readonly number[];
  payload: RoundsConfig;
  idleSessions: number;
  /** Bound on opening the idle sessions; `count` sessions are opened at once. */
  idleBudget: Budget;
  /** How long the video track streams, in ms. */
  videoMs: number;
}

// Many short rounds: a disturbance (the machine is shared) then hits every variant alike.
const FULL: ReportConfig = {
  sequential: { warmup: { count: 2000, ms: 1500 }, rounds: 60, perRound: { count: 500, ms: 150 } },
  pipelined: {
    warmup: { count: 20_000, ms: 1000 },
    rounds: 12,
    perRound: { count: 50_000, ms: 250 },
  },
  depths: [16, 64],
  payload: { warmup: { count: 200, ms: 2000 }, rounds: 40, perRound: { count: 50, ms: 300 } },
  idleSessions: 2000,
  idleBudget: { count: 100, ms: 30_000 },
  videoMs: 10_000,
};

const QUICK: ReportConfig = {
  sequential: { warmup: { count: 500, ms: 500 }, rounds: 8, perRound: { count: 400, ms: 200 } },
  pipelined: { warmup: { count: 2000, ms: 200 }, rounds: 3, perRound: { count: 20_000, ms: 150 } },
  depths: [16, 64],
  payload: { warmup: { count: 50, ms: 300 }, rounds: 5, perRound: { count: 25, ms: 200 } },
  idleSessions: 2000,
  idleBudget: { count: 100, ms: 3000 },
  videoMs: 3_000,
};

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean" },
    "no-pin": { type: "boolean" },
    record: { type: "boolean" },
  },
});
const config = flags.quick ? QUICK : FULL;
const start = performance.now();

/** Log progress to stderr with the elapsed time. */
function progress(message: string): void {
  console.error(`[${((performance.now() - start) / 1000).toFixed(1)} s] ${message}`);
}

/** Connect one client per variant that has `connect`. */
async function connectAll(
  servers: ReadonlyMap<Variant, ServerProcess>,
  connect: (variant: Variant) => ((server: ServerProcess) => Promise<Driver>) | undefined,
): Promise<Contestant[]> {
  const contestants: Contestant[] = [];
  for (const [variant, server] of servers) {
    const open = connect(variant);
    if (open) contestants.push({ name: variant.name, server, driver: await open(server) });
  }
  return contestants;
}

/** The servers of the variants that pass `keep`. */
function filtered(
  servers: ReadonlyMap<Variant, ServerProcess>,
  keep: (variant: Variant) => boolean,
): Map<Variant, ServerProcess> {
  return new Map([...servers].filter(([variant]) => keep(variant)));
}

/** Close every contestant's client. */
async function closeAll(contestants: readonly Contestant[]): Promise<void> {
  await Promise.all(contestants.map((c) => c.driver.close()));
}

const machine = await describeMachine();
const measurements: Measurements = {
  sequential: {},
  unpinned: {},
  pipelined: {},
  payload: {},
  idle: {},
};
const machineBefore = machineCpu();
const selfBefore = process.cpuUsage();
const wallStart = performance.now();
let serversCpuUs = 0;

// As users run it: nothing pinned yet, so client and servers share the cores as the OS likes.
progress(`sequential round trips, unpinned (${UNPINNED_VARIANTS.length} server processes)`);
{
  const unpinned = new Map<Variant, ServerProcess>();
  try {
    for (const variant of UNPINNED_VARIANTS) unpinned.set(variant, await startVariant(variant));
    const contestants = await connectAll(unpinned, (v) => v.small);
    measurements.unpinned = await measureLatency(contestants, config.sequential);
    await closeAll(contestants);
    for (const server of unpinned.values()) {
      const { cpuUserUs, cpuSystemUs } = await server.stats();
      serversCpuUs += cpuUserUs + cpuSystemUs;
    }
  } finally {
    await Promise.all([...unpinned.values()].map((server) => server.close()));
  }
}

const serverCpu = flags["no-pin"] ? undefined : await pinClient();
const pinning = serverCpu === undefined
  ? "not pinned"
  : `client on CPU 0, servers on CPU ${serverCpu}`;
progress(`starting ${VARIANTS.length} server processes (${pinning})`);
const servers = new Map<Variant, ServerProcess>();
try {
  for (const variant of VARIANTS) {
    servers.set(variant, await startVariant(variant, { cpu: serverCpu }));
  }

  // The interleaved variants first, then each isolated phase with its own variants only.
  const isolated = new Set([...servers.keys()].map((v) => v.isolated).filter((p) => p));
  const phases = [
    { label: "", servers: filtered(servers, (v) => !v.isolated) },
    ...[...isolated].map((phase) => ({
      label: ` (${phase}, isolated)`,
      servers: filtered(servers, (v) => v.isolated === phase),
    })),
  ];
  for (const phase of phases) {
    const small = await connectAll(phase.servers, (v) => v.small);
    progress(`sequential round trips${phase.label}`);
    Object.assign(measurements.sequential, await measureLatency(small, config.sequential));
    for (const depth of config.depths) {
      progress(`pipelined, ${depth} in flight${phase.label}`);
      measurements.pipelined[depth] = {
        ...measurements.pipelined[depth],
        ...await measureThroughput(small, depth, config.pipelined),
      };
    }
    await closeAll(small);

    const payload = await connectAll(phase.servers, (v) => v.image);
    progress(`100 KB payload${phase.label}`);
    Object.assign(measurements.payload, await measureLatency(payload, config.payload));
    await closeAll(payload);
  }
  const webrtcServer = [...servers].find(([v]) => v.name === "rally-webrtc")?.[1];
  if (webrtcServer) {
    progress("video track (rally-webrtc, isolated)");
    try {
      measurements.video = {
        "rally-webrtc": await measureVideo(webrtcServer.url, config.videoMs),
      };
    } catch (error) {
      console.error("the video-track scenario failed:", error);
    }
  }
  for (const server of servers.values()) {
    const { cpuUserUs, cpuSystemUs } = await server.stats();
    serversCpuUs += cpuUserUs + cpuSystemUs;
  }
} finally {
  await Promise.all([...servers.values()].map((server) => server.close()));
}
const disturbance = otherLoad(serversCpuUs);
for (const variant of VARIANTS.filter((v) => v.session)) {
  progress(`idle sessions: ${variant.name}`);
  try {
    measurements.idle[variant.name] = await measureIdleSessions(
      variant,
      config.idleSessions,
      config.idleBudget,
      serverCpu,
    );
  } catch (error) {
    // One broken variant should not cost the rest of the report; it shows as "–".
    console.error(`idle sessions of ${variant.name} failed:`, error);
  }
}

/**
 * What else ran on the machine during the timed scenarios, in cores: the machine's busy CPU
 * time less this process's and the servers', and the time the hypervisor stole.
 */
function otherLoad(serversUs: number): { otherCores: number; stealCores: number } | undefined {
  const after = machineCpu();
  if (!machineBefore || !after) return undefined;
  const self = process.cpuUsage(selfBefore);
  const seconds = (performance.now() - wallStart) / 1000;
  const ours = (self.user + self.system + serversUs) / 1e6;
  return {
    // Counters of 10 ms ticks against exact process times: clamp the rounding below zero.
    otherCores: Math.max(0, (after.busy - machineBefore.busy - ours) / seconds),
    stealCores: (after.steal - machineBefore.steal) / seconds,
  };
}

const targets = evaluateTargets(measurements);
const mode = flags.quick ? "quick" : "full";
const date = new Date().toISOString();
const title = `rally bench report (${mode}, ${date.slice(0, 16).replace("T", " ")} UTC)`;
const machineNote = `${machineLine(machine)}; ${pinning}`;
const noisy = quietWarning(disturbance) !== undefined;
const heading = [
  title,
  `Machine: ${machineNote}.`,
  disturbance === undefined ? "" : `Other load during the timed scenarios: ` +
    `${disturbance.otherCores.toFixed(2)} cores busy with other processes, ` +
    `${disturbance.stealCores.toFixed(2)} cores stolen by the hypervisor.` +
    (noisy ? " **The machine was not quiet: absolute figures are noisy.**" : ""),
].join("\n\n");
console.log(renderMarkdown(heading, measurements, targets));

const results = flags.record
  ? new URL("./results/", import.meta.url)
  : new URL("../.out/bench/", import.meta.url);
await Deno.mkdir(results, { recursive: true });
await Deno.writeTextFile(
  new URL("latest.json", results),
  JSON.stringify(
    { date, mode, machine, pinning, disturbance, config, measurements, targets },
    null,
    2,
  ) + "\n",
);
await Deno.writeTextFile(
  new URL("roundtrip.svg", results),
  roundTripChart({ date, mode, machine, pinning, disturbance, measurements }),
);
const shown = flags.record ? "bench/results/" : ".out/bench/";
progress(`wrote ${shown}latest.json and ${shown}roundtrip.svg`);
