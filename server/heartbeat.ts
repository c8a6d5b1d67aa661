/**
 * A realtime session's heartbeat: a `ping` meta frame once nothing was sent for a heartbeat, so
 * that a client's watchdog (which allows two) sees a live connection. Frames are counted by the
 * session, not timed (a clock read per frame costs CPU): the heartbeat looks at the count every
 * quarter interval, so the silence before a ping is 1 to 1.25 intervals.
 *
 * @module
 */
import { metaFrame } from "../protocol.ts";
import type { TimerSet } from "../internal/timer_set.ts";
import { HIGH_WATER_MARK } from "./socket_bound.ts";

/** Sends `ping` into a session's silences. */
export class Heartbeat {
  #intervalMs: number;
  #socket: { readonly bufferedAmount: number };
  #send: (data: string) => void;
  #sends: () => number;
  #timers: TimerSet;
  #sendsSeen = 0;
  /** When the heartbeat last saw frames sent since its previous look, or sent a ping. */
  #quietSince = 0;

  /**
   * @param intervalMs The silence after which a ping goes out, in milliseconds.
   * @param socket The session's socket, for its unsent bytes (no ping while it is full).
   * @param send Sends a frame (nothing once the session has ended).
   * @param sends How many frames the session has sent so far.
   * @param timers The session's timers, cleared when it ends.
   */
  constructor(
    intervalMs: number,
    socket: { readonly bufferedAmount: number },
    send: (data: string) => void,
    sends: () => number,
    timers: TimerSet,
  ) {
    this.#intervalMs = intervalMs;
    this.#socket = socket;
    this.#send = send;
    this.#sends = sends;
    this.#timers = timers;
  }

  /** Start; the silence counts from now, whatever was sent before. */
  start(): void {
    this.#sendsSeen = this.#sends();
    this.#quietSince = performance.now();
    this.#arm();
  }

  #arm(): void {
    const intervalMs = this.#intervalMs;
    this.#timers.after(
      Math.min(intervalMs / 4, this.#quietSince + intervalMs - performance.now()),
      () => {
        const now = performance.now();
        const sends = this.#sends();
        if (sends !== this.#sendsSeen) {
          this.#sendsSeen = sends;
          this.#quietSince = now;
        } else if (
          now - this.#quietSince >= intervalMs && this.#socket.bufferedAmount <= HIGH_WATER_MARK
        ) {
          this.#send(metaFrame("ping"));
          this.#sendsSeen = this.#sends();
          this.#quietSince = now;
        }
        this.#arm();
      },
    );
  }
}
