/**
 * Server side of the control channel every bench server process speaks: it announces its
 * port as one JSON line on stdout, then answers each command line read from stdin with one
 * JSON line of {@link ServerStats}. Commands: `stats`, and `gc` (collect garbage first; the
 * process must run with `--v8-flags=--expose-gc`). The process exits when stdin closes, so a
 * server never outlives the bench that started it.
 *
 * @module
 */
import process from "node:process";
import { readLines } from "../harness/lines.ts";

/** What a server process reports about itself. */
export interface ServerStats {
  /** User CPU time of the whole process (all threads) since it started, in µs. */
  cpuUserUs: number;
  /** System CPU time of the whole process since it started, in µs. */
  cpuSystemUs: number;
  /** Resident set size, in bytes. */
  rss: number;
  /** V8 heap in use, in bytes. */
  heapUsed: number;
}

/** Read this process's CPU time and memory. */
function readStats(): ServerStats {
  const cpu = process.cpuUsage();
  const memory = Deno.memoryUsage();
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
  };
}

/** Run V8's full garbage collection twice (weak callbacks free more on the second pass). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("Cannot collect garbage: run with --v8-flags=--expose-gc");
  gc();
  gc();
}

/**
 * Announce the listening port and serve control commands until stdin closes, then exit.
 *
 * @param port The port the bench server listens on (127.0.0.1).
 * @returns A promise that never resolves: the process exits when stdin closes.
 */
export async function runControl(port: number): Promise<never> {
  console.log(JSON.stringify({ port }));
  for await (const line of readLines(Deno.stdin.readable)) {
    if (line === "gc") collectGarbage();
    else if (line !== "stats") throw new Error(`Unknown control command: ${line}`);
    console.log(JSON.stringify(readStats()));
  }
  Deno.exit(0);
}
