/**
 * Bench server processes: spawn `deno run bench/servers/<script>` as a child, wait for the
 * port it announces, and talk to its control channel (see `servers/control.ts`).
 *
 * @module
 */
import type { ServerStats } from "../servers/control.ts";
import { readLines } from "./lines.ts";

export type { ServerStats };

/**
 * Put the client and the servers on their own cores: pin this process (all its threads) to
 * CPU 0 with `taskset`, and name CPU 1 for the server processes. Does nothing on a machine
 * with one core or without `taskset`.
 *
 * @returns The CPU to pin servers to, or `undefined` when nothing was pinned.
 */
export async function pinClient(): Promise<number | undefined> {
  if (navigator.hardwareConcurrency < 2) return undefined;
  try {
    const { success } = await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", "0", String(Deno.pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? 1 : undefined;
  } catch {
    return undefined; // no taskset
  }
}

/** How long a server may take to start, or to answer one control command. */
const CONTROL_TIMEOUT_MS = 30_000;

/** A running bench server process. */
export interface ServerProcess {
  /** The script it runs, relative to `bench/servers/`. */
  readonly script: string;
  /** Its base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its operating-system process id. */
  readonly pid: number;
  /** Ask for its CPU time and memory. */
  stats(): Promise<ServerStats>;
  /** Collect its garbage, then ask for its CPU time and memory. */
  gcStats(): Promise<ServerStats>;
  /** Kill it at once, without waiting (for `unload` handlers). */
  kill(): void;
  /** Close its stdin so that it exits (killing it after 5 s), and wait for it to exit. */
  close(): Promise<void>;
}

/** Settle `promise`, or reject after `ms` with a message naming `what`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Arguments passed to the script. */
  args?: string[];
  /** Pin the process (all its threads) to this CPU with `taskset`. */
  cpu?: number;
  /** Extra flags for `deno run`, e.g. `["--cpu-prof"]`. */
  flags?: string[];
}

/**
 * Start one bench server process and wait until it listens.
 *
 * @param script File name under `bench/servers/`, e.g. `"ws_floor.ts"`.
 * @param options Script arguments, CPU pinning, Deno flags.
 * @returns The running process.
 */
export async function startServer(
  script: string,
  options: StartOptions = {},
): Promise<ServerProcess> {
  const path = new URL(`../servers/${script}`, import.meta.url).pathname;
  const deno = [
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    ...options.flags ?? [],
    path,
    ...options.args ?? [],
  ];
  const argv = options.cpu === undefined ? deno : ["taskset", "-c", String(options.cpu), ...deno];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: new URL("../..", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = readLines(child.stdout);
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let exited = false;
  const status = child.status.finally(() => exited = true);

  async function nextLine(what: string): Promise<string> {
    const line = await withTimeout(lines.next(), CONTROL_TIMEOUT_MS, `${script}: ${what}`);
    if (line.done) throw new Error(`Bench server ${script} exited during ${what}`);
    return line.value;
  }
  async function command(name: "stats" | "gc"): Promise<ServerStats> {
    await writer.write(encoder.encode(`${name}\n`));
    return JSON.parse(await nextLine(name)) as ServerStats;
  }
  function kill(): void {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited between the check and the kill.
      }
    }
  }

  let port: number;
  try {
    ({ port } = JSON.parse(await nextLine("start")) as { port: number });
  } catch (error) {
    kill();
    await status;
    throw error;
  }
  return {
    script,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stats: () => command("stats"),
    gcStats: () => command("gc"),
    kill,
    async close() {
      const timer = setTimeout(kill, 5000);
      await writer.close().catch(() => {});
      await status;
      clearTimeout(timer);
      await lines.return(undefined);
    },
  };
}
