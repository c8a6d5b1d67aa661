/**
 * Bounding how long a request body may take to arrive, without a timer per request. A timer
 * set and cleared for every body measured about 18 µs of a 30 µs in-process request here (Deno's
 * timers are ops); under rally's `serve()` one interval ticks four times per `bodyTimeout` instead
 * and gives up on the reads that have waited their time, so a stalled body is answered after 1 to
 * 1.25 times `bodyTimeout`. Without `serve()` (`deno serve`, `app.fetch` in tests) nothing would
 * stop such an interval, so each read then gets a timer of its own.
 *
 * @module
 */

/** What a read resolves to once it has taken too long (the read itself is left to fail). */
export const STALLED: unique symbol = Symbol("stalled");

/** A read waiting for its body. */
interface Waiter {
  /** The tick at which it gives up. */
  deadline: number;
  /** Gives up. */
  resolve: (value: typeof STALLED) => void;
}

/** How many ticks make one `seconds` of waiting. */
const TICKS = 4;

/** One coarse clock for the body reads of one App's run. */
export class StallClock {
  #seconds: number;
  #waiting = new Set<Waiter>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #now = 0;

  /**
   * Make the clock of a run.
   *
   * @param seconds How long a read may take (`Infinity`: reads are never given up).
   */
  constructor(seconds: number) {
    this.#seconds = seconds;
  }

  /** Tick until {@link stop} (under `serve()`, which stops it at shutdown). */
  start(): void {
    if (this.#timer !== undefined || !Number.isFinite(this.#seconds)) return;
    this.#timer = setInterval(() => this.#tick(), (this.#seconds * 1000) / TICKS);
  }

  /** Stop ticking; reads still waiting give up now. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiting) waiter.resolve(STALLED);
    this.#waiting.clear();
  }

  /**
   * Wait for a read, or give up on it once it has taken the clock's time.
   *
   * @param read The read.
   * @returns What it read, or {@link STALLED}.
   */
  within<T>(read: Promise<T>): Promise<T | typeof STALLED> {
    if (!Number.isFinite(this.#seconds)) return read;
    read.catch(() => {}); // once given up, its failure (the client left) is nobody's concern
    if (this.#timer === undefined) return alone(read, this.#seconds);
    return new Promise((resolve, reject) => {
      // One tick more than the time: the current tick is already partly over.
      const waiter: Waiter = { deadline: this.#now + TICKS + 1, resolve };
      this.#waiting.add(waiter);
      read.then((value) => {
        this.#waiting.delete(waiter);
        resolve(value);
      }, (error) => {
        this.#waiting.delete(waiter);
        reject(error);
      });
    });
  }

  #tick(): void {
    this.#now++;
    for (const waiter of this.#waiting) {
      if (waiter.deadline > this.#now) continue;
      this.#waiting.delete(waiter);
      waiter.resolve(STALLED);
    }
  }
}

/** A read with a timer of its own, for runs that no `serve()` will stop. */
function alone<T>(read: Promise<T>, seconds: number): Promise<T | typeof STALLED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof STALLED>((resolve) => {
    timer = setTimeout(() => resolve(STALLED), seconds * 1000);
  });
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}
