/**
 * The fuzz App (`tests/fixtures/fuzz_app.ts`) served by `rally serve` in a child process, for
 * tests that read the server's memory (after a full GC) or that must see it survive: a crash
 * there ends the child, not the test runner.
 *
 * @module
 */
import { type Child, spawnDeno } from "./_helpers.ts";
import type { Stats } from "./fixtures/fuzz_app.ts";

export type { Stats };

/** A `rally serve` child process serving the fuzz App. */
export interface ChildServer extends AsyncDisposable {
  /** The process and its output. */
  readonly child: Child;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly http: string;
  /** `ws://127.0.0.1:PORT`. */
  readonly ws: string;
  /** Handler calls, sessions and memory after a full GC (`POST /stats`). */
  stats(): Promise<Stats>;
  /** SIGTERM, wait for the exit. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Serve the fuzz App in a child process with `--expose-gc` and a capped V8 heap.
 *
 * @param maxHeapMb `--max-old-space-size`: the process dies if its old space passes this.
 * @param env Extra environment variables (`FUZZ_APP_RATE_LIMIT`: messages/s per connection).
 * @returns The running server.
 */
export async function serveFuzzApp(
  maxHeapMb = 256,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = spawnDeno([
    "run",
    "-A",
    `--v8-flags=--expose-gc,--max-old-space-size=${maxHeapMb}`,
    "cli.ts",
    "serve",
    "tests/fixtures/fuzz_app.ts",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
  ], env);
  let port: number;
  try {
    port = Number((await child.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)\//, 30_000))[1]);
  } catch (error) {
    await child.stop("SIGKILL");
    throw error;
  }
  const http = `http://127.0.0.1:${port}`;
  const stop = () => child.stop("SIGTERM");
  return {
    child,
    port,
    http,
    ws: `ws://127.0.0.1:${port}`,
    async stats() {
      const response = await fetch(`${http}/stats`, { method: "POST" });
      if (!response.ok) throw new Error(`POST /stats: ${response.status} ${await response.text()}`);
      return await response.json() as Stats;
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Megabytes, for messages. */
export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
