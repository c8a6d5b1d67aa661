/**
 * rally's HTTP path before and after a change, against the floor, in one run:
 * `deno run -A bench/http_compare.ts --before DIR [--app examples/realtime_app.ts]
 * [--rounds 40]`, where DIR is a checkout of the other revision (for example
 * `git archive main | tar -x -C DIR`). Each rally runs as users run it, `rally serve APP` from
 * its own checkout (default log, and `RALLY_LOG=off`); the floor is `bench/servers/bare_http.ts`.
 * All are asked by the same bare fetch client, interleaved in rounds, first unpinned, then pinned
 * (client on CPU 0, servers on CPU 1). Prints p50 and the median of round p50s of sequential
 * requests, each over the floor's, and each server's CPU time per request with 16 in flight
 * (from `/proc`, all threads).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { requestDriver } from "./harness/drivers.ts";
import { httpJsonRequest } from "./harness/floor_clients.ts";
import { pinClient, type ServerProcess } from "./harness/process.ts";
import { type Contestant, measureLatency, measureThroughput } from "./harness/scenarios.ts";
import { type ServedOptions, startPlain } from "./harness/served.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    before: { type: "string" },
    app: { type: "string", default: "examples/realtime_app.ts" },
    rounds: { type: "string", default: "40" },
  },
});
if (!values.before) {
  console.error("Usage: http_compare.ts --before DIR [--app APP.ts] [--rounds N]");
  Deno.exit(2);
}
const before = values.before.replace(/\/?$/, "/");
const app = values.app;
const serve = ["cli.ts", "serve", app, "--port", "0", "--host", "127.0.0.1"];
const off = { RALLY_LOG: "off" };
const entries: [string, (cpu?: number) => Promise<ServerProcess>][] = [
  ["http-floor", (cpu) => startPlain("bare Deno.serve", ["bench/servers/bare_http.ts"], { cpu })],
  ["before", (cpu) => startPlain("rally (before)", serve, { cpu, root: before })],
  ["after", (cpu) => startPlain("rally (after)", serve, { cpu })],
  ["before, log off", (cpu) => startPlain("rally (before)", serve, opts(cpu, before))],
  ["after, log off", (cpu) => startPlain("rally (after)", serve, opts(cpu))],
];

function opts(cpu: number | undefined, root?: string): ServedOptions {
  return { cpu, env: off, ...(root ? { root } : {}) };
}

const config = {
  warmup: { count: 2000, ms: 1500 },
  rounds: Number(values.rounds),
  perRound: { count: 500, ms: 150 },
};
for (const placement of ["unpinned", "pinned"] as const) {
  const cpu = placement === "pinned" ? await pinClient() : undefined;
  const servers: ServerProcess[] = [];
  try {
    for (const [, start] of entries) servers.push(await start(cpu));
    const contestants: Contestant[] = entries.map(([name], i) => ({
      name,
      server: servers[i],
      driver: requestDriver(httpJsonRequest(`${servers[i].url}/`)),
    }));
    const results = await measureLatency(contestants, config);
    const pipelined = await measureThroughput(contestants, 16, {
      warmup: { count: 2000, ms: 500 },
      rounds: Math.ceil(config.rounds / 4),
      perRound: { count: 20_000, ms: 250 },
    });
    const floor = results["http-floor"];
    console.log(`\n${placement} (${app}, ${config.rounds} rounds)`);
    console.log(
      "| server | p50 µs | p50 / floor | median of round p50s / floor | server CPU µs/req, " +
        "16 in flight | / floor |",
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const [name, r] of Object.entries(results)) {
      const ratio = (r.p50 / floor.p50).toFixed(3);
      const median = (r.medianOfRoundMedians / floor.medianOfRoundMedians).toFixed(3);
      console.log(
        `| ${name} | ${r.p50.toFixed(1)} | ${ratio} | ${median} | ` +
          `${pipelined[name].serverCpuUs.toFixed(1)} | ` +
          `${(pipelined[name].serverCpuUs / pipelined["http-floor"].serverCpuUs).toFixed(2)} |`,
      );
    }
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}
