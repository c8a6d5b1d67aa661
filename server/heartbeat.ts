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
import type { SessionSocket } from "./context.ts";
import { HIGH_WATER_MARK } from "./socket_bound.ts";

/** Sends `ping` into a session's silences. */
export class Heartbeat {
  #intervalMs: number;
  #socket: Pick<SessionSocket, "bufferedAmount" | "readyState" | "send">;
  #sends: () => number;
  #timers: TimerSet;
  #sendsSeen = 0;
  /** When the heartbeat last saw frames sent since its previous look, or sent a ping. */
  #quietSince = 0;

  /**
   * @param intervalMs The silence after which a ping goes out, in milliseconds.
   * @param socket The session's socket: no ping while it is full, or not open. The ping goes
   *   straight to it (the session's timers, this one's too, are cleared when it ends).
   * @param sends How many frames the session has sent so far.
   * @param timers The session's timers, cleared when it ends.
   */
  constructor(
    intervalMs: number,
    socket: Pick<SessionSocket, "bufferedAmount" | "readyState" | "send">,
    sends: () => number,
    timers: TimerSet,
  ) {
    this.#intervalMs = intervalMs;
    this.#socket = socket;
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
          now - this.#quietSince >= intervalMs && this.#socket.bufferedAmount <= HIGH_WATER_MARK &&
          this.#socket.readyState === WebSocket.OPEN
        ) {
          this.#socket.send(metaFrame("ping"));
          this.#sendsSeen = sends;
          this.#quietSince = now;
        }
        this.#arm();
      },
    );
  }
}
