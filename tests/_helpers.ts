/**
 * Helpers shared by the HTTP, CLI and example tests: bounded waits, free ports, and child
 * processes that are always reaped.
 *
 * @module
 */
import assert from "node:assert/strict";
import { realtime, run, wsConnect } from "../client/mod.ts";
import { within } from "./_realtime_helpers.ts";

/** The repository's root, where `deno.json` is: child processes run there. */
export const ROOT: URL = new URL("../", import.meta.url);

/**
 * A port that was free a moment ago: listen on port 0, read the port, close.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A child process whose stdout and stderr are collected as they come. */
export interface Child {
  /** The process. */
  readonly process: Deno.ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved by arrival. */
  output(): string;
  /**
   * Wait until its output matches `pattern`.
   *
   * @returns The match.
   */
  waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray>;
  /**
   * Wait for it to exit by itself, or kill it after `ms`.
   *
   * @returns Its status.
   */
  exited(ms: number): Promise<Deno.CommandStatus>;
  /**
   * Send `signal` unless it has exited, wait for it (SIGKILL after `ms`), and for its output
   * to end. Safe to call more than once.
   *
   * @returns Its status.
   */
  stop(signal?: Deno.Signal, options?: StopOptions): Promise<Deno.CommandStatus>;
}

/** How {@link Child.stop} waits. */
export interface StopOptions {
  /** How long to wait before SIGKILL and failing. Default 10,000 ms. */
  ms?: number;
  /** Send the signal again at this interval until the process exits. */
  repeatEveryMs?: number;
}

/**
 * Run `deno ARGS` in the repository's root (or in `cwd`).
 *
 * @param args Arguments after `deno`.
 * @param env Extra environment variables.
 * @param cwd The working directory.
 * @returns The running child.
 */
export function spawnDeno(
  args: string[],
  env: Record<string, string> = {},
  cwd: string | URL = ROOT,
): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let changed = Promise.withResolvers<void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      changed.resolve();
      changed = Promise.withResolvers<void>();
    }
  };
  const pumped = Promise.all([pump(process.stdout), pump(process.stderr)]);
  let done = false;
  const status = process.status.then((status) => {
    done = true;
    changed.resolve();
    return status;
  });

  const waitFor = async (pattern: RegExp) => {
    for (;;) {
      const match = text.match(pattern);
      if (match) return match;
      if (done) {
        await pumped;
        const late = text.match(pattern);
        if (late) return late;
        throw new Error(`exited before printing ${pattern}`);
      }
      await changed.promise;
    }
  };
  const stop = async (signal: Deno.Signal = "SIGTERM", options: StopOptions = {}) => {
    const { ms = 10_000, repeatEveryMs } = options;
    const send = () => {
      if (done) return;
      try {
        process.kill(signal);
      } catch { /* it exited meanwhile */ }
    };
    send();
    const repeat = repeatEveryMs ? setInterval(send, repeatEveryMs) : undefined;
    try {
      return await within(status, `deno ${args.join(" ")} to exit on ${signal}`, ms);
    } catch (error) {
      process.kill("SIGKILL");
      await status;
      throw new Error(`${(error as Error).message}\noutput:\n${text}`, { cause: error });
    } finally {
      clearInterval(repeat);
      await pumped;
    }
  };
  return {
    process,
    output: () => text,
    waitFor: (pattern, ms) =>
      within(waitFor(pattern), `${pattern} from deno ${args.join(" ")}`, ms).catch((error) => {
        throw new Error(`${(error as Error).message}\noutput so far:\n${text}`);
      }),
    exited: async (ms) => {
      try {
        await within(status, `deno ${args.join(" ")} to exit`, ms);
      } finally {
        await stop("SIGKILL");
      }
      return status;
    },
    stop,
  };
}

/** What {@link callExample} gets from `examples/realtime_app.ts`. */
export const EXAMPLE_RESULTS = {
  http: { output: "Hello, world!" },
  realtime: [0, 1, 2].map((i) => ({ output: `Hello, world! #${i}` })),
  websocket: ["Hello, world!-0", "Hello, world!-1", "Hello, world!-2"],
};

/**
 * Call the example app's three endpoints the way `examples/client.ts` does.
 *
 * @param url The server's base URL.
 * @returns The HTTP output, the three realtime outputs and the WebSocket messages.
 */
export function callExample(url: string): Promise<typeof EXAMPLE_RESULTS> {
  return within(
    (async () => {
      const http = await run<{ output: string }>(url, {
        path: "/",
        input: { prompt: "Hello, world!" },
      });
      const outputs: { output: string }[] = [];
      {
        await using conn = await realtime<{ prompt: string }, { output: string }>(url, {
          path: "/realtime",
        });
        for (let i = 0; i < 3; i++) {
          conn.send({ prompt: `Hello, world! #${i}` });
          const output = await conn.receive();
          if (output) outputs.push(output);
        }
      }
      const messages: string[] = [];
      {
        await using ws = await wsConnect(url, { path: "/echo" });
        ws.send("Hello, world!");
        for await (const message of ws) messages.push(String(message));
      }
      return { http, realtime: outputs, websocket: messages };
    })(),
    `the example's endpoints at ${url}`,
    15_000,
  );
}

/**
 * Run `deno serve` on a module at 127.0.0.1 on a free port, call `body` once it listens, then
 * stop it with SIGTERM and assert that it exited 0.
 *
 * @param module The module, relative to the repository's root.
 * @param workers Workers (`--parallel` with `DENO_JOBS` when over 1).
 * @param body What to do with the running server, given its base URL and port.
 */
export async function withDenoServe(
  module: string,
  workers: number,
  body: (url: string, port: number) => Promise<void>,
): Promise<void> {
  const port = freePort();
  const parallel = workers > 1 ? ["--parallel"] : [];
  const child = spawnDeno(
    ["serve", ...parallel, "-A", "--port", String(port), "--host", "127.0.0.1", module],
    { DENO_JOBS: String(workers) },
  );
  let status: Deno.CommandStatus;
  try {
    await child.waitFor(
      workers > 1
        ? new RegExp(`Listening on .* with ${workers} threads`)
        : new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/`),
      30_000,
    );
    await body(`http://127.0.0.1:${port}`, port);
  } finally {
    // Deno 2.9.6 drops a SIGTERM that arrives while a worker is still starting (the first one
    // answers before the others are up), so send it until the process goes.
    status = await child.stop("SIGTERM", workers > 1 ? { repeatEveryMs: 1_000 } : undefined);
  }
  assert.equal(status.code, 0, child.output());
}
