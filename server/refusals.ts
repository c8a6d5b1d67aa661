/**
 * How a realtime session refuses what it will not take. Refusals out of turn (an input after the
 * end of input, a rate warning) go out at once while the socket drains, and are held while it
 * does not, repeated ones collapsing into one frame with a `count`. A client refused
 * {@link MAX_REFUSALS_IN_A_ROW} times in a row gets a closing frame, and its socket closes once
 * it has stopped sending ({@link closeWhenQuiet}), so that the close is not lost.
 *
 * @module
 */
import { type ErrorCode, errorFrame } from "../protocol.ts";
import type { TimerSet } from "../internal/timer_set.ts";
import type { SessionSocket } from "./context.ts";
import { DRAIN_POLL_MS, HIGH_WATER_MARK } from "./socket_bound.ts";

/**
 * Refused inputs in a row (`INVALID_INPUT`, `MESSAGE_TOO_LARGE`), with no valid input between
 * them, after which the session is closed with 1008: a client that keeps sending garbage.
 */
export const MAX_REFUSALS_IN_A_ROW = 100;
/** After a closing frame, the longest wait for the client to stop sending, in milliseconds. */
const LINGER_MS = 1_000;
/** A client silent this long after a closing frame has stopped sending, in milliseconds. */
const LINGER_QUIET_MS = 50;

/** A refusal out of turn, held while the socket is full. */
interface Held {
  reason: string;
  count: number;
  retryable?: boolean;
}

/**
 * A session's refusals out of turn. Memory stays one entry per code, whatever the client sends.
 */
export class HeldRefusals {
  #held = new Map<ErrorCode, Held>();
  #socket: { readonly bufferedAmount: number };
  #send: (data: string) => void;
  #timers: TimerSet;

  /**
   * @param socket The session's socket, for its unsent bytes.
   * @param send Sends a frame (nothing once the session has ended).
   * @param timers The session's timers, cleared when it ends.
   */
  constructor(
    socket: { readonly bufferedAmount: number },
    send: (data: string) => void,
    timers: TimerSet,
  ) {
    this.#socket = socket;
    this.#send = send;
    this.#timers = timers;
  }

  /**
   * Refuse out of turn: sent at once while the socket drains; while it does not, held, and
   * repeated ones collapse into one frame with a `count`, sent once it drains.
   *
   * @param code The error code.
   * @param reason The reason.
   * @param retryable Whether the client may send again later.
   */
  refuse(code: ErrorCode, reason: string, retryable?: boolean): void {
    const held = this.#held.get(code);
    if (held) {
      held.count++;
      return;
    }
    if (this.#held.size === 0 && this.#socket.bufferedAmount <= HIGH_WATER_MARK) {
      return this.#send(errorFrame(code, reason, retryable ? { retryable } : undefined));
    }
    this.#held.set(code, { reason, count: 1, retryable });
    if (this.#held.size === 1) this.#timers.after(DRAIN_POLL_MS, () => this.#sendHeld());
  }

  /** Forget what is held (the session has ended). */
  clear(): void {
    this.#held.clear();
  }

  /** Send the held refusals once the socket has drained. */
  #sendHeld(): void {
    if (this.#socket.bufferedAmount > HIGH_WATER_MARK / 2) {
      return this.#timers.after(DRAIN_POLL_MS, () => this.#sendHeld());
    }
    for (const [code, { reason, count, retryable }] of this.#held) {
      this.#send(
        errorFrame(code, reason, {
          retryable: retryable || undefined,
          count: count > 1 ? count : undefined,
        }),
      );
    }
    this.#held.clear();
  }
}

/**
 * Close a socket whose client may still be sending, without losing the close. Deno answers a
 * `close()` with input still unread by resetting the connection, and the client's kernel then
 * throws away what the client had not read yet: the last frames and the close frame (the client
 * saw 1006 and reconnected). So the socket is read, its frames dropped, until the client closes
 * it, or is silent for {@link LINGER_QUIET_MS}, or {@link LINGER_MS} have passed; then it closes.
 *
 * @param socket The socket; its `onmessage` and `onclose` are taken over.
 * @param code The close code.
 * @param reason The close reason.
 */
export function closeWhenQuiet(socket: SessionSocket, code: number, reason: string): void {
  let heard = performance.now();
  const started = heard;
  let timer: ReturnType<typeof setTimeout>;
  const look = () => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    if (now - heard >= LINGER_QUIET_MS || now - started >= LINGER_MS) socket.close(code, reason);
    else timer = setTimeout(look, LINGER_QUIET_MS);
  };
  socket.onmessage = () => heard = performance.now();
  socket.onclose = () => clearTimeout(timer);
  timer = setTimeout(look, LINGER_QUIET_MS);
}
