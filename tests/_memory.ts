/**
 * An App served in memory for tests where a real port adds nothing (the socket is not what is
 * under test): the same shape as `listen()`'s server, its `http` URL reached in memory by rally's
 * client functions.
 *
 * @module
 */
import type { App } from "../server/mod.ts";
import { testClient } from "../testing/mod.ts";

/** An App served in memory, disposed as `listen()`'s server is: the App drains, then stops. */
export interface InMemory extends AsyncDisposable {
  /** The base URL, reached in memory by rally's client functions. */
  readonly http: string;
  /** Drain the App (sessions get `SHUTTING_DOWN` and 1001), then cut what is left. */
  shutdown(): Promise<void>;
}

/**
 * Serve an App in memory.
 *
 * @param app The App.
 * @param graceMs The drain grace at shutdown.
 * @returns The served App.
 */
export function inMemory(app: App, graceMs = 5_000): InMemory {
  const t = testClient(app);
  let stopped: Promise<void> | undefined;
  const shutdown = () =>
    stopped ??= (async () => {
      try {
        await app.drain(graceMs);
      } finally {
        await t.close();
      }
    })();
  return { http: t.url, shutdown, [Symbol.asyncDispose]: shutdown };
}
