/**
 * A concurrency gate: at most `max` holders at once, then a bounded queue of waiters (first
 * come, first served), then refusal. The App puts every HTTP and SSE request through one.
 *
 * @module
 */

/**
 * At most `max` slots held at once; up to `maxQueue` more callers wait for one in arrival order.
 */
export class Limiter {
  #max: number;
  #maxQueue: number;
  #active = 0;
  #queue: (() => void)[] = [];
  #idle: (() => void)[] = [];

  /**
   * Make a gate.
   *
   * @param max Slots held at once (`Infinity`: no limit).
   * @param maxQueue Callers that may wait for a slot.
   */
  constructor(max: number, maxQueue: number) {
    this.#max = max;
    this.#maxQueue = maxQueue;
  }

  /** Slots held plus callers waiting for one. */
  get size(): number {
    return this.#active + this.#queue.length;
  }

  /**
   * Take a slot, waiting in the queue when all are held.
   *
   * @returns `true` once a slot is held (at once when one is free), `false` at once when the
   * queue is full too.
   */
  acquire(): boolean | Promise<boolean> {
    if (this.tryAcquire()) return true;
    if (this.#queue.length >= this.#maxQueue) return false;
    return new Promise((resolve) => this.#queue.push(() => resolve(true)));
  }

  /**
   * Take a slot only if one is free now.
   *
   * @returns Whether a slot is held.
   */
  tryAcquire(): boolean {
    if (this.#active >= this.#max) return false;
    this.#active++;
    return true;
  }

  /** Give a slot back: the first waiter takes it over. */
  release(): void {
    const next = this.#queue.shift();
    if (next) return next();
    this.#active--;
    if (this.#active === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
  }

  /**
   * Wait until no slot is held and nobody waits.
   *
   * @returns When the gate is idle.
   */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
