/**
 * The load test: `deno task load [--quick]`. A script that prints figures, not a unit test.
 *
 * One rally server process (`bench/servers/rally.ts`: `/realtime` with an input and an output
 * schema, no buffering) holds many concurrent realtime sessions opened by several client
 * processes (`bench/harness/load_client.ts`, rally's own client). 1 % of the sessions are
 * active, each sending 10 messages a second and timing every round trip; the rest stay open
 * and idle. Reported: the server's RSS (at start, with every session open, at its peak), its CPU
 * time per message, round-trip percentiles, and errors (failed opens, error frames, sessions
 * that ended, wrong outputs).
 *
 * Full: 5,000 sessions for 60 s. `--quick`: 1,000 sessions for 10 s. Targets: 0 errors, p99 under
 * 50 ms, RSS growth under 200 MB; the script exits 1 when one is missed. Figures also go to
 * `load.json` (`load-quick.json` for `--quick`) in the ignored folder `.out/bench/`, or in
 * `bench/results/` with `--record` (the record that the README quotes).
 *
 * Child processes get the hard limit of open files as their soft limit (each session is one
 * socket on each side).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readLines } from "./harness/lines.ts";
import { withTimeout } from "./harness/process.ts";
import { describeMachine, machineCpu, machineLine } from "./harness/machine.ts";
import { quantile } from "./harness/stats.ts";
import type { ServerStats } from "./servers/control.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean" },
    record: { type: "boolean" },
    sessions: { type: "string" },
    seconds: { type: "string" },
    clients: { type: "string" },
    "active-share": { type: "string", default: "0.01" },
    rate: { type: "string", default: "10" },
  },
});
const SESSIONS = Number(flags.sessions ?? (flags.quick ? 1_000 : 5_000));
const SECONDS = Number(flags.seconds ?? (flags.quick ? 10 : 60));
const CLIENTS = Number(flags.clients ?? (flags.quick ? 2 : 4));
const ACTIVE = Math.max(1, Math.round(SESSIONS * Number(flags["active-share"])));
const RATE = Number(flags.rate);
const TARGETS = { errors: 0, p99Ms: 50, rssGrowthMb: 200 };

const root = new URL("..", import.meta.url).pathname;
const started = performance.now();
const encoder = new TextEncoder();

function progress(message: string): void {
  console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);
}

/** A child process speaking newline-delimited JSON on stdout and commands on stdin. */
interface Proc {
  next<T>(what: string, ms?: number): Promise<T>;
  send(command: string): Promise<void>;
  close(): Promise<void>;
  pid: number;
}

/** `ulimit -n` as high as the hard limit, then the command. */
function spawn(args: string[]): Proc {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      "sh",
      Deno.execPath(),
      ...args,
    ],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = readLines(child.stdout);
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  return {
    pid: child.pid,
    async next<T>(what: string, ms = 120_000): Promise<T> {
      const line = await withTimeout(lines.next(), ms, what);
      if (line.done) throw new Error(`${args.join(" ")} exited during ${what}`);
      return JSON.parse(line.value) as T;
    },
    send: (command) => writer.write(encoder.encode(`${command}\n`)),
    async close() {
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 10_000);
      await writer.close().catch(() => {});
      await status;
      clearTimeout(timer);
      await lines.return(undefined);
    },
  };
}

async function openFilesLimit(): Promise<string> {
  const { stdout } = await new Deno.Command("sh", { args: ["-c", "ulimit -Hn"] }).output();
  return new TextDecoder().decode(stdout).trim();
}

interface ClientResult {
  sent: number;
  received: number;
  rtts: number[];
  errors: number;
  samples: string[];
}

const machine = await describeMachine();
const fdLimit = await openFilesLimit();
if (fdLimit !== "unlimited" && Number(fdLimit) < SESSIONS / CLIENTS + 1_000) {
  console.error(
    `warning: the hard limit of open files is ${fdLimit}; ${SESSIONS} sessions need about ` +
      `${SESSIONS + 1_000} in the server`,
  );
}
progress(
  `server, then ${CLIENTS} client processes: ${SESSIONS} sessions, ${ACTIVE} active at ` +
    `${RATE} msgs/s for ${SECONDS} s`,
);
const server = spawn(["run", "-A", "--v8-flags=--expose-gc", "bench/servers/rally.ts"]);
const clients: Proc[] = [];
let exitCode = 0;
try {
  const { port } = await server.next<{ port: number }>("the server's port");
  const url = `http://127.0.0.1:${port}`;
  const stats = async (command: "stats" | "gc") => {
    await server.send(command);
    return await server.next<ServerStats>(command);
  };

  // Warm up with a short run of one session, so that the baseline has the code loaded.
  const warm = spawn(["run", "-A", "bench/harness/load_client.ts", url, "1", "1", "100", "1"]);
  await warm.next("warm-up open");
  await warm.send("go");
  await warm.next("warm-up result");
  await warm.send("close");
  await warm.next("warm-up close");
  await warm.close();
  const baseline = await stats("gc");

  const opening = performance.now();
  for (let i = 0; i < CLIENTS; i++) {
    const sessions = Math.floor(SESSIONS / CLIENTS) + (i < SESSIONS % CLIENTS ? 1 : 0);
    const active = Math.floor(ACTIVE / CLIENTS) + (i < ACTIVE % CLIENTS ? 1 : 0);
    clients.push(spawn([
      "run",
      "-A",
      "bench/harness/load_client.ts",
      url,
      String(sessions),
      String(active),
      String(RATE),
      String(SECONDS),
    ]));
  }
  const opened = await Promise.all(
    clients.map((c) => c.next<{ opened: number; failures: number }>("sessions to open", 300_000)),
  );
  const openSeconds = (performance.now() - opening) / 1000;
  const open = opened.reduce((sum, o) => sum + o.opened, 0);
  const openFailures = opened.reduce((sum, o) => sum + o.failures, 0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = await stats("gc");
  progress(`${open} sessions open in ${openSeconds.toFixed(1)} s (${openFailures} failed)`);

  // The cost of holding the sessions with no traffic (heartbeats, timers), to set apart.
  const idleWindowMs = flags.quick ? 2_000 : 5_000;
  const idleStart = await stats("stats");
  await new Promise((resolve) => setTimeout(resolve, idleWindowMs));
  const idleEnd = await stats("stats");
  const idleCpuUsPerSecond = (idleEnd.cpuUserUs + idleEnd.cpuSystemUs - idleStart.cpuUserUs -
    idleStart.cpuSystemUs) / (idleWindowMs / 1000);

  const machineBefore = machineCpu();
  const before = await stats("stats");
  let peakRss = before.rss;
  const sampler = setInterval(async () => {
    try {
      peakRss = Math.max(peakRss, (await stats("stats")).rss);
    } catch {
      // the run is ending
    }
  }, 1_000);
  const activeStart = performance.now();
  await Promise.all(clients.map((c) => c.send("go")));
  const results = await Promise.all(
    clients.map((c) => c.next<{ result: ClientResult }>("results", (SECONDS + 120) * 1000)),
  );
  const activeSeconds = (performance.now() - activeStart) / 1000;
  clearInterval(sampler);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = await stats("stats");
  peakRss = Math.max(peakRss, after.rss);
  const machineAfter = machineCpu();
  await Promise.all(clients.map((c) => c.send("close")));
  await Promise.all(clients.map((c) => c.next("sessions to close")));
  const end = await stats("gc");

  const rtts = results.flatMap((r) => r.result.rtts).sort((a, b) => a - b);
  const sent = results.reduce((sum, r) => sum + r.result.sent, 0);
  const received = results.reduce((sum, r) => sum + r.result.received, 0);
  const errors = openFailures + results.reduce((sum, r) => sum + r.result.errors, 0) +
    (sent - received);
  const cpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
  const mbOf = (bytes: number) => bytes / 2 ** 20;
  const figures = {
    date: new Date().toISOString(),
    mode: flags.quick ? "quick" : "full",
    machine,
    openFilesHardLimit: fdLimit,
    sessions: { asked: SESSIONS, open, openFailures, openSeconds, clientProcesses: CLIENTS },
    active: { sessions: ACTIVE, msgsPerSecondEach: RATE, seconds: activeSeconds },
    messages: { sent, received, perSecond: received / activeSeconds },
    roundTripMs: {
      p50: quantile(rtts, 0.5),
      p90: quantile(rtts, 0.9),
      p99: quantile(rtts, 0.99),
      max: rtts.at(-1) ?? NaN,
    },
    serverRssMb: {
      baseline: mbOf(baseline.rss),
      allOpenIdle: mbOf(idle.rss),
      peak: mbOf(peakRss),
      growth: mbOf(peakRss - baseline.rss),
      afterClose: mbOf(end.rss),
    },
    serverHeapMb: { baseline: mbOf(baseline.heapUsed), allOpenIdle: mbOf(idle.heapUsed) },
    serverHeapPerSessionKb: (idle.heapUsed - baseline.heapUsed) / open / 1024,
    serverCpuPerMessageUs: cpuUs / received,
    serverCpuPerMessageNetOfIdleUs: (cpuUs - idleCpuUsPerSecond * activeSeconds) / received,
    serverIdleCpuShareOfOneCore: idleCpuUsPerSecond / 1e6,
    serverCpuShareOfOneCore: cpuUs / 1e6 / activeSeconds,
    machineBusyCores: machineBefore && machineAfter
      ? (machineAfter.busy - machineBefore.busy) / activeSeconds
      : undefined,
    errors,
    errorSamples: results.flatMap((r) => r.result.samples).slice(0, 10),
  };
  const verdict = {
    errors: errors <= TARGETS.errors,
    p99: figures.roundTripMs.p99 < TARGETS.p99Ms,
    rssGrowth: figures.serverRssMb.growth < TARGETS.rssGrowthMb,
  };
  const ok = (pass: boolean) => pass ? "ok" : "MISSED";
  const f1 = (n: number) => n.toFixed(1);
  console.log(
    [
      `rally load test (${figures.mode}, ${figures.date.slice(0, 16).replace("T", " ")} UTC)`,
      `machine: ${machineLine(machine)}; open files (hard): ${fdLimit}`,
      `sessions: ${open} open from ${CLIENTS} client processes in ${f1(openSeconds)} s ` +
      `(${openFailures} failed)`,
      `active: ${ACTIVE} sessions x ${RATE} msgs/s for ${f1(activeSeconds)} s: ${received} ` +
      `round trips (${f1(figures.messages.perSecond)} msgs/s)`,
      `round trip: p50 ${figures.roundTripMs.p50.toFixed(2)} ms, p90 ` +
      `${figures.roundTripMs.p90.toFixed(2)} ms, p99 ${figures.roundTripMs.p99.toFixed(2)} ms, ` +
      `max ${figures.roundTripMs.max.toFixed(2)} ms`,
      `server RSS: ${f1(figures.serverRssMb.baseline)} MB at start, ` +
      `${f1(figures.serverRssMb.allOpenIdle)} MB with every session open, ` +
      `${f1(figures.serverRssMb.peak)} MB at peak (growth ${f1(figures.serverRssMb.growth)} MB), ` +
      `${f1(figures.serverRssMb.afterClose)} MB after closing`,
      `server heap: ${f1(figures.serverHeapPerSessionKb)} KB per open session`,
      `server CPU: ${f1(figures.serverCpuPerMessageUs)} µs per message all in, ` +
      `${f1(figures.serverCpuPerMessageNetOfIdleUs)} µs net of holding the idle sessions ` +
      `(${(figures.serverIdleCpuShareOfOneCore * 100).toFixed(1)} % of a core with no traffic, ` +
      `${(figures.serverCpuShareOfOneCore * 100).toFixed(1)} % during the run)`,
      `errors: ${errors}${
        figures.errorSamples.length ? ` (${figures.errorSamples.join("; ")})` : ""
      }`,
      `targets: 0 errors ${ok(verdict.errors)}, p99 < ${TARGETS.p99Ms} ms ${ok(verdict.p99)}, ` +
      `RSS growth < ${TARGETS.rssGrowthMb} MB ${ok(verdict.rssGrowth)}`,
    ].join("\n"),
  );
  const resultsDir = flags.record
    ? new URL("./results/", import.meta.url)
    : new URL("../.out/bench/", import.meta.url);
  await Deno.mkdir(resultsDir, { recursive: true });
  await Deno.writeTextFile(
    new URL(flags.quick ? "load-quick.json" : "load.json", resultsDir),
    JSON.stringify({ ...figures, targets: TARGETS, verdict }, null, 2) + "\n",
  );
  if (!Object.values(verdict).every(Boolean)) exitCode = 1;
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
}
progress("done");
Deno.exit(exitCode);
