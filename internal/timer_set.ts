/**
 * A set of timers cleared together: the timers of one session or one connection, so that
 * nothing fires after it has ended. Shared by rally's server and client (browser-safe).
 * Internal: not exported from the package's entry points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimerSet } from "./timer_set.ts";
 *
 * const timers = new TimerSet();
 * let fired = false;
 * timers.after(1, () => fired = true);
 * timers.clear(); // it never fires
 * await new Promise((resolve) => setTimeout(resolve, 5));
 * assert.equal(fired, false);
 * ```
 *
 * @module
 */

/** Timers started through {@link TimerSet.after}, all cleared by {@link TimerSet.clear}. */
export class TimerSet {
  /** Made on the first timer: most sessions never start one, and each costs memory while open. */
  #timers?: Set<ReturnType<typeof setTimeout>>;
  #cleared = false;

  /**
   * Call `callback` after `ms` milliseconds, unless the set is cleared first; nothing once it
   * has been cleared.
   *
   * @param ms The delay.
   * @param callback What to call.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TimerSet } from "./timer_set.ts";
   *
   * const timers = new TimerSet();
   * const fired = await new Promise<boolean>((resolve) => timers.after(1, () => resolve(true)));
   * assert.equal(fired, true);
   * ```
   */
  after(ms: number, callback: () => void): void {
    if (this.#cleared) return;
    const timers = this.#timers ??= new Set();
    const timer = setTimeout(() => {
      timers.delete(timer);
      callback();
    }, ms);
    timers.add(timer);
  }

  /**
   * Clear every timer not yet fired, for good: the set starts no more (its owner has ended).
   *
   * @example
   * ```ts
   * import { TimerSet } from "./timer_set.ts";
   *
   * const timers = new TimerSet();
   * timers.after(60_000, () => {});
   * timers.clear(); // nothing left to leak
   * timers.after(1, () => {}); // and nothing starts after
   * ```
   */
  clear(): void {
    this.#cleared = true;
    for (const timer of this.#timers ?? []) clearTimeout(timer);
    this.#timers = undefined;
  }
}
