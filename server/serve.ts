/**
 * `serve()`: host an App on `Deno.serve`: run its `setup()`, stop gracefully on signals, on an
 * abort or after `keepAlive` seconds without work, and run its `teardown()` once drained.
 *
 * @module
 */
import type { App } from "./app.ts";
import { flushLogs } from "./middleware/log_writer.ts";
import { runnerOf } from "./run.ts";

/** How long open sessions may take to finish at shutdown when `shutdownGraceMs` is not given. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * Options of {@link serve}.
 *
 * @example
 * ```ts
 * import { App, serve, type ServeOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const options: ServeOptions = {
 *   port: 0, // a free port
 *   hostname: "127.0.0.1",
 *   signal: controller.signal, // aborting it shuts the server down gracefully
 *   signals: false, // no SIGINT/SIGTERM handlers (a test, an embedding)
 *   shutdownGraceMs: 2_000,
 *   onListen() {}, // quiet
 * };
 * const server = serve(new App(), options);
 * controller.abort();
 * await server.finished;
 * await assert.rejects(fetch(`http://127.0.0.1:${server.addr.port}/health`));
 * ```
 */
export interface ServeOptions {
  /** Port to listen on; 0 picks a free one. Default 8000. */
  port?: number;
  /** Address to listen on. Default `"0.0.0.0"` (as `Deno.serve`). */
  hostname?: string;
  /** Shuts the server down gracefully when aborted. */
  signal?: AbortSignal;
  /** Shut down gracefully on SIGINT and SIGTERM. Default true. */
  signals?: boolean;
  /** How long open sessions may take to finish their work at shutdown, in ms. Default 10,000. */
  shutdownGraceMs?: number;
  /** Called once listening. Default: prints the address. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/**
 * A running rally server. `await using` shuts it down at the end of the scope: right for a test
 * or a script that calls its own server, wrong at a module's top level, where the scope ends as
 * soon as the module has run (the process prints "serving" and exits). There, hold it in a
 * `const` and `await server.finished`.
 *
 * @example
 * ```ts
 * import { App, type Server, serve } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const server: Server = serve(new App(), { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const health = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(health.status, 200);
 * await health.body?.cancel();
 * await server.shutdown(); // drains, runs teardown(), stops listening
 * await server.finished;
 * ```
 */
export interface Server extends AsyncDisposable {
  /** The address it listens on (with the real port when `port: 0` was asked). */
  readonly addr: Deno.NetAddr;
  /**
   * Resolves when the server has stopped; rejects when the App's `setup()` or `teardown()`
   * threw (the server then stops by itself after a failed setup).
   */
  readonly finished: Promise<void>;
  /**
   * Shut down gracefully: stop taking work, drain open sessions and requests in flight for up
   * to `shutdownGraceMs` (sessions end with `SHUTTING_DOWN` and 1001), abort what is left, run
   * the App's `teardown()`, stop listening.
   *
   * @returns When the server has stopped; rejects with `teardown()`'s error.
   * @example
   * ```ts
   * import { App, serve } from "@rally/rally/server";
   * import assert from "node:assert/strict";
   *
   * let tornDown = false;
   * const server = serve(new App({ teardown: () => void (tornDown = true) }), {
   *   port: 0,
   *   hostname: "127.0.0.1",
   *   signals: false,
   *   onListen() {},
   * });
   * await server.shutdown();
   * assert.ok(tornDown);
   * ```
   */
  shutdown(): Promise<void>;
}

/**
 * Serve an App with `Deno.serve`. It listens at once and runs the App's `setup()`: `/health`
 * answers 503 and other requests wait until it has finished. The App's options are read here
 * (an out-of-range one throws). Once stopped, the same App can be served again.
 *
 * At a module's top level, keep the server in a `const` (`const server = serve(app)`), not
 * `await using`: `await using` shuts it down when the module has run. An App module that
 * `export default`s its App needs no `serve()` call at all (`rally serve`, `deno serve`).
 *
 * @param app The app.
 * @param options Where to listen and how to stop.
 * @returns The running server.
 * @throws {RangeError} when an App option is out of range.
 * @throws {TypeError} when a security option is malformed, or `auth` is on without a secret.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, { method: "POST" });
 * assert.deepEqual(await response.json(), { ok: true });
 * ```
 */
export function serve(app: App, options: ServeOptions = {}): Server {
  const { signal, signals = true, shutdownGraceMs = DEFAULT_SHUTDOWN_GRACE_MS } = options;
  const runner = runnerOf(app);
  runner.watchStalls();
  let httpServer = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname,
    onListen: options.onListen ??
      ((addr) =>
        console.log(`rally: serving ${app.name} on http://${addr.hostname}:${addr.port}/`)),
  }, app.fetch);
  const addr = httpServer.addr as Deno.NetAddr;
  // Deno's accept loop ends for good when accepting fails (EMFILE: out of file descriptors),
  // rejecting `finished`. Listen again on the same address until it works; log once a time.
  let relistenTimer: ReturnType<typeof setTimeout> | undefined;
  const watch = (server: Deno.HttpServer) => {
    server.finished.catch((error) => {
      if (stopping || server !== httpServer) return;
      console.error(listenerFailed(error, addr));
      relisten(RELISTEN_FIRST_MS);
    });
  };
  const relisten = (waitMs: number) => {
    relistenTimer = setTimeout(() => {
      if (stopping) return;
      try {
        httpServer = Deno.serve(
          { port: addr.port, hostname: addr.hostname, onListen() {} },
          app.fetch,
        );
      } catch {
        // Still no descriptor (or the port is not free yet): try again a little later.
        relisten(Math.min(waitMs * 2, RELISTEN_MAX_MS));
        return;
      }
      console.error(`rally: serving ${app.name} again on http://${addr.hostname}:${addr.port}/`);
      watch(httpServer);
    }, waitMs);
  };
  watch(httpServer);
  const signalNames: Deno.Signal[] = signals && Deno.build.os !== "windows"
    ? ["SIGINT", "SIGTERM"]
    : [];
  const finished = Promise.withResolvers<void>();
  finished.promise.catch(() => {}); // a rejection nobody awaits must not end the process
  let setupError: { error: unknown } | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      clearTimeout(idleTimer);
      clearTimeout(relistenTimer);
      for (const name of signalNames) Deno.removeSignalListener(name, stop);
      signal?.removeEventListener("abort", stop);
      try {
        await runner.drain(shutdownGraceMs);
      } finally {
        // A listener that failed (and was not replaced yet) has nothing left to shut down.
        await httpServer.shutdown().catch(() => {});
        flushLogs(); // the last requests' and sessions' log lines, before `finished` settles
      }
    })();
    stopping.then(
      () => setupError ? finished.reject(setupError.error) : finished.resolve(),
      finished.reject,
    );
    return stopping;
  };
  const stop = () => void shutdown().catch(() => {}); // the error goes to `finished`
  for (const name of signalNames) Deno.addSignalListener(name, stop);
  if (signal?.aborted) stop();
  else signal?.addEventListener("abort", stop, { once: true });
  runner.start().then(() => {
    const keepAliveMs = runner.settings.keepAlive * 1000;
    const check = () => {
      const idleMs = runner.idleMs();
      if (idleMs >= keepAliveMs) stop();
      else idleTimer = setTimeout(check, keepAliveMs - idleMs);
    };
    if (Number.isFinite(keepAliveMs) && !stopping) idleTimer = setTimeout(check, keepAliveMs);
  }, (error) => {
    setupError = { error };
    stop();
  });
  return {
    addr,
    finished: finished.promise,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** The first wait before listening again after the listener failed, in ms; it doubles. */
const RELISTEN_FIRST_MS = 50;
/** The longest wait between two attempts to listen again, in ms. */
const RELISTEN_MAX_MS = 1_000;

/** The line logged when the listener fails: the cause, and the fix when it is a known one. */
function listenerFailed(error: unknown, addr: Deno.NetAddr): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = `http://${addr.hostname}:${addr.port}/`;
  if (!/Too many open files|os error 24|os error 23/.test(message)) {
    return `rally: the listener on ${where} failed (${message}); listening again`;
  }
  return `rally: out of file descriptors (${message}): not accepting connections on ${where} ` +
    `until some close, then listening again. Raise the open-files limit (ulimit -n${openFilesLimits()}) and close idle connections in a proxy (README: Deploying safely)`;
}

/** `, now SOFT (hard HARD)` from /proc (Linux, with read permission), else nothing. */
function openFilesLimits(): string {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((text) => text.startsWith("Max open files"));
    const [soft, hard] = line?.split(/\s+/).slice(3, 5) ?? [];
    return soft ? `, now ${soft} (hard ${hard})` : "";
  } catch {
    return "";
  }
}
