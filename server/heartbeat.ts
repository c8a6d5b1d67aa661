/**
 * A realtime session's heartbeat: a `ping` meta frame once nothing was sent for a heartbeat, so
 * that a client's watchdog (which allows two) sees a live connection. Frames are counted by the
 * session, not timed (a clock read per frame costs CPU): the heartbeat looks at the count every
 * quarter interval, on the process's shared ticker of that period (a timer per session costs
 * memory), so the silence before a ping is 1 to 1.25 intervals.
 *
 * @module
 */
import { metaFrame } from "../protocol.ts";
import { type Ticker, tickerOf } from "../internal/ticker.ts";
import type { SessionSocket } from "./context.ts";
import { HIGH_WATER_MARK } from "./socket_bound.ts";

/** Sends `ping` into a session's silences. */
export class Heartbeat {
  #ticker: Ticker;
  #socket: Pick<SessionSocket, "bufferedAmount" | "readyState" | "send">;
  #sends: () => number;
  /** The count of frames sent at the last look; -1 before the first, which starts the silence. */
  #sendsSeen = -1;
  /** Looks since frames were last seen sent, or a ping went out. */
  #quietLooks = 0;
  #look = () => this.#check();

  /**
   * @param intervalMs The silence after which a ping goes out, in milliseconds.
   * @param socket The session's socket: no ping while it is full, or not open.
   * @param sends How many frames the session has sent so far.
   */
  constructor(
    intervalMs: number,
    socket: Pick<SessionSocket, "bufferedAmount" | "readyState" | "send">,
    sends: () => number,
  ) {
    this.#ticker = tickerOf(intervalMs / LOOKS);
    this.#socket = socket;
    this.#sends = sends;
  }

  /** Start; the silence counts from the first look, whatever was sent before. */
  start(): void {
    this.#ticker.add(this.#look);
  }

  /** Stop, for good (the session has ended). */
  stop(): void {
    this.#ticker.delete(this.#look);
  }

  #check(): void {
    const sends = this.#sends();
    if (sends !== this.#sendsSeen) {
      this.#sendsSeen = sends;
      this.#quietLooks = 0;
    } else if (
      ++this.#quietLooks >= LOOKS && this.#socket.bufferedAmount <= HIGH_WATER_MARK &&
      this.#socket.readyState === WebSocket.OPEN
    ) {
      this.#socket.send(metaFrame("ping"));
      this.#quietLooks = 0;
    }
  }
}

/** Looks per interval: the silence before a ping is 1 to 1.25 intervals. */
const LOOKS = 4;
