/**
 * Coarse timers for what every open connection watches (its heartbeat, its first message): one
 * interval per period, shared by all the connections that use it, instead of a Deno timer each.
 * A Deno timer measured about 1 KiB of server memory per idle session here, the largest part of
 * what rally's session costs over a bare WebSocket's. The interval runs only while it has
 * members. Internal: not exported from the package's entry points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deadline } from "./ticker.ts";
 *
 * const started = performance.now();
 * const elapsed = await new Promise<number>((resolve) => {
 *   deadline(40, () => resolve(performance.now() - started));
 * });
 * assert.ok(elapsed >= 40, `fired after ${elapsed} ms`); // and by about 1.25 times 40 ms
 *
 * let fired = false;
 * const cancel = deadline(10, () => fired = true);
 * cancel(); // it never fires
 * await new Promise((resolve) => setTimeout(resolve, 30));
 * assert.equal(fired, false);
 * ```
 *
 * @module
 */

/** Called on each tick; it must not throw (the other members would miss the tick). */
export type Member = () => void;

/** One interval calling its members on every tick, running only while it has any. */
export class Ticker {
  /** Milliseconds between ticks. */
  readonly periodMs: number;
  /** Each member, with the tick count when it joined: one that joins during a tick waits. */
  #members = new Map<Member, number>();
  #ticks = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * A ticker with no members (and no interval yet).
   *
   * @param periodMs Milliseconds between ticks.
   */
  constructor(periodMs: number) {
    this.periodMs = periodMs;
  }

  /**
   * Call `member` on every tick from the next one on, starting the interval if it is the first.
   *
   * @param member What to call.
   */
  add(member: Member): void {
    this.#members.set(member, this.#ticks);
    this.#timer ??= setInterval(() => {
      const tick = ++this.#ticks;
      for (const [each, joined] of this.#members) if (joined < tick) each();
    }, this.periodMs);
  }

  /**
   * Stop calling `member`, stopping the interval once no member is left.
   *
   * @param member What {@link Ticker.add} was given.
   */
  delete(member: Member): void {
    this.#members.delete(member);
    if (this.#members.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** The process's tickers, by period. */
const tickers = new Map<number, Ticker>();

/**
 * The process's shared ticker of a period.
 *
 * @param periodMs Milliseconds between ticks.
 * @returns The one ticker of that period.
 */
export function tickerOf(periodMs: number): Ticker {
  let ticker = tickers.get(periodMs);
  if (ticker === undefined) tickers.set(periodMs, ticker = new Ticker(periodMs));
  return ticker;
}

/** How many ticks make one deadline: it then fires after 1 to 1.25 times its time. */
const TICKS = 4;

/**
 * Call `callback` once, between 1 and 1.25 times `ms` from now, on the shared ticker of a
 * quarter of `ms`, unless cancelled first.
 *
 * @param ms The least time before it fires, in milliseconds.
 * @param callback What to call (it must not throw).
 * @returns Cancels it; harmless once it has fired.
 */
export function deadline(ms: number, callback: () => void): () => void {
  const ticker = tickerOf(ms / TICKS);
  let ticks = 0;
  const member = () => {
    // The first tick comes within one period: one more than TICKS makes the least time `ms`.
    if (++ticks <= TICKS) return;
    ticker.delete(member);
    callback();
  };
  ticker.add(member);
  return () => ticker.delete(member);
}
