/**
 * The link from an App to its current run. `app.ts` sets how a run starts (it owns the App's
 * private fields); `serve.ts` asks for the run through here, so that it needs no run-time
 * import of `app.ts`, which imports `serve.ts` (no import cycle). Not part of the public API.
 *
 * @module
 */
import type { App } from "./app.ts";
import type { Runner } from "./runner.ts";

let startRun: ((app: App) => Runner) | undefined;

/**
 * Set how an App's run is found or started (called once, by the App class).
 *
 * @param start Returns the App's current run, or a new one.
 */
export function setRunStarter(start: (app: App) => Runner): void {
  startRun = start;
}

/**
 * The App's current run, or a new one when it has none or the last one ended: what `serve()`
 * serves.
 *
 * @param app The App.
 * @returns The run, not started yet when new.
 * @throws {RangeError} for an option out of range.
 */
export function runnerOf(app: App): Runner {
  if (!startRun) throw new Error("Cannot start an App's run: the App class is not loaded");
  return startRun(app);
}
