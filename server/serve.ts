/**
 * `serve()`: host an App on `Deno.serve`, with graceful shutdown on signals.
 *
 * @module
 */
import type { App } from "./app.ts";

/** Options of {@link serve}. */
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

/** A running rally server. `await using` shuts it down at the end of the scope. */
export interface Server extends AsyncDisposable {
  /** The address it listens on (with the real port when `port: 0` was asked). */
  readonly addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /**
   * Shut down gracefully: stop taking work, drain open sessions for up to `shutdownGraceMs`,
   * close them with `SHUTTING_DOWN` and 1001, wait for HTTP requests in flight, stop listening.
   *
   * @returns When the server has stopped.
   */
  shutdown(): Promise<void>;
}

/**
 * Serve an App with `Deno.serve`.
 *
 * @param app The app.
 * @param options Where to listen and how to stop.
 * @returns The running server.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 *
 * const app = new App().endpoint("/", {}, () => ({ ok: true }));
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, { method: "POST" });
 * console.log(await response.json()); // { ok: true }
 * ```
 */
export function serve(app: App, options: ServeOptions = {}): Server {
  const { signal, signals = true, shutdownGraceMs = 10_000 } = options;
  const httpServer = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname,
    onListen: options.onListen ??
      ((addr) =>
        console.log(`rally: serving ${app.name} on http://${addr.hostname}:${addr.port}/`)),
  }, app.fetch);
  const signalNames: Deno.Signal[] = signals && Deno.build.os !== "windows"
    ? ["SIGINT", "SIGTERM"]
    : [];
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      for (const name of signalNames) Deno.removeSignalListener(name, onSignal);
      signal?.removeEventListener("abort", onSignal);
      await app.drain(shutdownGraceMs);
      await httpServer.shutdown();
    })();
    return stopping;
  };
  const onSignal = () => void shutdown();
  for (const name of signalNames) Deno.addSignalListener(name, onSignal);
  if (signal?.aborted) onSignal();
  else signal?.addEventListener("abort", onSignal, { once: true });
  return {
    addr: httpServer.addr as Deno.NetAddr,
    finished: httpServer.finished,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
