/**
 * Servers started the way users start them, without the bench's control channel: a rally App
 * with `deno run -A cli.ts serve <app> --port 0`, with `rally serve`'s default log (one JSON
 * line per request on stdout, `RALLY_LOG` unset), and a bare `Deno.serve` script. The bench
 * reads the process's output as a log collector would (every line, as it comes), counts the
 * request log lines, and reads the process's CPU time and memory from `/proc`.
 *
 * @module
 */
import type { ServerProcess, ServerStats, StartOptions } from "./process.ts";
import { readLines } from "./lines.ts";
import { withTimeout } from "./process.ts";

/** How long a server may take to listen, or to stop after SIGTERM. */
const TIMEOUT_MS = 30_000;
/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** A server started as users start it, with the log lines it has written so far. */
export interface ServedProcess extends ServerProcess {
  /**
   * JSON lines it wrote on stdout after the one saying that it listens, so far: its log lines,
   * one per request (the bench's servers open no sessions).
   */
  readonly logLines: number;
}

/** Options of {@link startServed} and {@link startPlain}. */
export interface ServedOptions extends StartOptions {
  /** Environment of the process (e.g. `{ RALLY_LOG: "off" }`); `RALLY_LOG` is unset otherwise. */
  env?: Record<string, string>;
  /** The checkout it runs from, its working directory (default: this one). */
  root?: string;
}

/** CPU time and memory of a process, from `/proc`. */
async function procStats(pid: number): Promise<ServerStats> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The fields after the command name (which may hold spaces), which ends with the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const usPerTick = 1e6 / TICKS_PER_SECOND;
  const statm = (await Deno.readTextFile(`/proc/${pid}/statm`)).split(" ");
  return {
    cpuUserUs: Number(fields[11]) * usPerTick, // utime, field 14 of stat
    cpuSystemUs: Number(fields[12]) * usPerTick, // stime, field 15
    rss: Number(statm[1]) * 4096,
    heapUsed: NaN, // not readable from outside
  };
}

/**
 * Start `rally serve <app>` on a free port of 127.0.0.1 and wait until it listens.
 *
 * @param app The App module, relative to the repository's root.
 * @param options CPU pinning, Deno flags, environment.
 * @returns The running process; `close()` sends SIGTERM (a graceful shutdown) and waits.
 */
export function startServed(app: string, options: ServedOptions = {}): Promise<ServedProcess> {
  const args = ["cli.ts", "serve", app, "--port", "0", "--host", "127.0.0.1"];
  return startPlain(`rally serve ${app}`, args, options);
}

/**
 * Start `deno run -A <args>` in the repository's root and wait until it says that it listens
 * on `http://127.0.0.1:<port>/` (as `rally serve` and `Deno.serve` do).
 *
 * @param name What it is, in messages.
 * @param args The script and its arguments.
 * @param options CPU pinning, Deno flags, environment.
 * @returns The running process; `close()` sends SIGTERM and waits.
 */
export async function startPlain(
  name: string,
  args: string[],
  options: ServedOptions = {},
): Promise<ServedProcess> {
  const root = options.root ?? new URL("../..", import.meta.url).pathname;
  const deno = [Deno.execPath(), "run", "-A", ...options.flags ?? [], ...args];
  const argv = options.cpu === undefined ? deno : ["taskset", "-c", String(options.cpu), ...deno];
  const env = { ...Deno.env.toObject(), ...options.env };
  if (!options.env || !("RALLY_LOG" in options.env)) delete env.RALLY_LOG; // rally serve's default
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: root,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const kill = () => {
    if (exited) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited between the check and the kill.
    }
  };
  const listening = Promise.withResolvers<number>();
  let logLines = 0;
  const LISTENING = / on http:\/\/127\.0\.0\.1:(\d+)\//;
  // stderr: every line echoed, and looked at for the address (`Deno.serve` says it there).
  const echo = async () => {
    for await (const line of readLines(child.stderr)) {
      const match = line.match(LISTENING);
      if (match) listening.resolve(Number(match[1]));
      else console.error(`${name}: ${line}`);
    }
  };
  // stdout, the log collector: text decoded until the line saying that it listens, then every
  // byte read as it comes and the log's lines (those that start with "{") counted without
  // decoding them (the bench process measures too: it does no more than a log shipper's read).
  const collect = async () => {
    const decoder = new TextDecoder();
    let text = "";
    let listened = false;
    let lineStart = false;
    for await (const chunk of child.stdout) {
      if (listened) {
        if (lineStart && chunk[0] === 0x7b) logLines++;
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) {
          if (chunk[at + 1] === 0x7b) logLines++;
        }
        lineStart = chunk[chunk.length - 1] === 10;
        continue;
      }
      text += decoder.decode(chunk, { stream: true });
      const match = text.match(LISTENING);
      if (!match) continue;
      listened = true;
      listening.resolve(Number(match[1]));
      const rest = text.slice(match.index!).split("\n").slice(1);
      logLines += rest.filter((line) => line.startsWith("{")).length;
      lineStart = rest.length > 0 && rest[rest.length - 1] === "";
    }
  };
  const drained = Promise.all([collect(), echo()]);
  drained.finally(() => listening.reject(new Error(`${name} exited before it listened`)))
    .catch(() => {});
  let port: number;
  try {
    port = await withTimeout(listening.promise, TIMEOUT_MS, `${name}: start`);
  } catch (error) {
    kill();
    await status;
    await drained;
    throw error;
  }
  return {
    script: name,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    get logLines() {
      return logLines;
    },
    stats: () => procStats(child.pid),
    gcStats: () => Promise.reject(new Error(`Cannot collect garbage in ${name}`)),
    kill,
    async close() {
      const timer = setTimeout(kill, 5000);
      try {
        if (!exited) child.kill("SIGTERM");
      } catch {
        // It exited already.
      }
      await withTimeout(status, TIMEOUT_MS, `${name}: stop`);
      clearTimeout(timer);
      await drained;
    },
  };
}
