/**
 * The `dropped` meta frame of a realtime session: inputs dropped from the pending buffer are
 * counted, and reported at most every {@link DROPPED_INTERVAL_MS}, only while the socket has room
 * (the report counts against the socket's bound too: while it is full, counts add up).
 *
 * @module
 */
import { metaFrame } from "../protocol.ts";
import type { TimerSet } from "../internal/timer_set.ts";
import type { SessionStats } from "./middleware/stats.ts";
import { HIGH_WATER_MARK } from "./socket_bound.ts";

/** `dropped` frames go out at most this often, in milliseconds. */
const DROPPED_INTERVAL_MS = 100;

/** Counts a session's dropped inputs and sends `dropped` reports. */
export class DropReport {
  #unreported = 0;
  #lastReport = -Infinity;
  #socket: { readonly bufferedAmount: number };
  #send: (data: string) => void;
  #timers: TimerSet;
  #stats: SessionStats;

  /**
   * @param socket The session's socket, for its unsent bytes.
   * @param send Sends a frame (nothing once the session has ended).
   * @param timers The session's timers, cleared when it ends.
   * @param stats The session's stats, counting drops.
   */
  constructor(
    socket: { readonly bufferedAmount: number },
    send: (data: string) => void,
    timers: TimerSet,
    stats: SessionStats,
  ) {
    this.#socket = socket;
    this.#send = send;
    this.#timers = timers;
    this.#stats = stats;
  }

  /**
   * Count dropped inputs; a report goes out when the interval since the last one allows.
   *
   * @param count How many dropped.
   */
  note(count: number): void {
    this.#stats.dropped += count;
    const first = this.#unreported === 0;
    this.#unreported += count;
    if (!first) return; // a report is already due
    const wait = this.#lastReport + DROPPED_INTERVAL_MS - performance.now();
    if (wait <= 0) this.#reportWhenDrained();
    else this.#timers.after(wait, () => this.#reportWhenDrained());
  }

  /** Send the unreported count now, if any (before a session's last frame). */
  flush(): void {
    if (this.#unreported === 0) return;
    this.#send(metaFrame("dropped", { count: this.#unreported }));
    this.#unreported = 0;
    this.#lastReport = performance.now();
  }

  #reportWhenDrained(): void {
    if (this.#socket.bufferedAmount <= HIGH_WATER_MARK) this.flush();
    else this.#timers.after(DROPPED_INTERVAL_MS, () => this.#reportWhenDrained());
  }
}
