/**
 * The pending buffer of a realtime session: received frames waiting for the handler, bounded in
 * count (`buffering`) and in bytes (`maxPendingBytes`). When it overflows the oldest input drops
 * (latest frames win) and the drops are counted for the session's `dropped` report. Refusals of
 * oversized frames wait here too, in turn, so that answers go out in order; they never drop, and
 * repeated ones next to each other collapse into one with a count.
 *
 * @module
 */
import type { ErrorCode } from "../protocol.ts";

/** What one pending input costs beyond its bytes (its buffer object, its slot): counted too. */
export const PENDING_OVERHEAD_BYTES = 128;

/** A received frame: binary (a WebSocket's `ArrayBuffer`, or a view from a DataChannel) or text. */
export type Frame = ArrayBuffer | Uint8Array | string;

/**
 * The refusal of a frame (over `maxMessageBytes`), waiting in the pending buffer for its turn to
 * be sent; repeated ones next to each other collapse into one with a count. A plain object, not
 * an `Error`: a stack trace per refused frame is what made piled-up refusals cost a gigabyte.
 */
export class Refusal {
  /** How many refused frames this one stands for. */
  count = 1;
  /**
   * @param code The error code to answer with.
   * @param reason The reason to answer with.
   */
  constructor(readonly code: ErrorCode, readonly reason: string) {}
}

/** A pending frame, or a refusal waiting for its turn. */
export type Pending = Frame | Refusal;

/** The bounds of a pending buffer. */
export interface PendingBounds {
  /** The most entries pending (a session's `buffering`). */
  buffering: number;
  /** The most bytes pending, each entry's {@link PENDING_OVERHEAD_BYTES} included. */
  maxPendingBytes: number;
}

/** A session's pending inputs, in arrival order, within their bounds. */
export class PendingInputs {
  #entries: Pending[] = [];
  #bytes = 0;
  #bounds: PendingBounds;

  /** @param bounds The count and byte bounds. */
  constructor(bounds: PendingBounds) {
    this.#bounds = bounds;
  }

  /** How many entries are pending. */
  get length(): number {
    return this.#entries.length;
  }

  /**
   * Add a received frame; past the bounds, the oldest inputs drop.
   *
   * @param frame The frame.
   * @returns How many inputs dropped.
   */
  push(frame: Frame): number {
    this.#entries.push(frame);
    this.#bytes += frameSize(frame);
    return this.#bound();
  }

  /**
   * Add the refusal of a frame, collapsing with a refusal of the same code just before it.
   *
   * @param code The error code.
   * @param reason The reason.
   * @returns How many inputs dropped.
   */
  refuse(code: ErrorCode, reason: string): number {
    const last = this.#entries.at(-1);
    if (last instanceof Refusal && last.code === code) last.count++;
    else {
      this.#entries.push(new Refusal(code, reason));
      this.#bytes += PENDING_OVERHEAD_BYTES;
    }
    return this.#bound();
  }

  /**
   * Take the oldest entry, no longer counted.
   *
   * @returns The entry, or `undefined` when none is pending.
   */
  shift(): Pending | undefined {
    const entry = this.#entries.shift();
    if (entry !== undefined) this.#bytes -= frameSize(entry);
    return entry;
  }

  /**
   * Take up to `count` of the oldest entries (at least one must be pending). They stay counted
   * against the byte bound until each is {@link release}d: a batch holds its memory while it is
   * decoded.
   *
   * @param count The most to take.
   * @returns The entries, oldest first.
   */
  take(count: number): Pending[] {
    return count > 1 ? this.#entries.splice(0, count) : [this.#entries.shift()!];
  }

  /**
   * Stop counting an entry that {@link take} returned.
   *
   * @param entry The entry.
   */
  release(entry: Pending): void {
    this.#bytes -= frameSize(entry);
  }

  /** Drop everything pending, uncounted (the session has ended). */
  clear(): void {
    this.#entries.length = 0;
    this.#bytes = 0;
  }

  /** Drop the oldest inputs while over a bound; a waiting refusal never drops. */
  #bound(): number {
    const entries = this.#entries;
    const { buffering, maxPendingBytes } = this.#bounds;
    let dropped = 0;
    while (entries.length > 1 && (entries.length > buffering || this.#bytes > maxPendingBytes)) {
      // The oldest input drops; a waiting refusal never does (it collapses with its neighbour).
      const oldest = entries[0] instanceof Refusal
        ? entries.findIndex((entry) => !(entry instanceof Refusal))
        : 0;
      if (oldest < 0 || oldest === entries.length - 1) break;
      this.#bytes -= frameSize(entries.splice(oldest, 1)[0]);
      dropped++;
      const before = entries[oldest - 1];
      const after = entries[oldest];
      if (before instanceof Refusal && after instanceof Refusal && before.code === after.code) {
        before.count += after.count;
        entries.splice(oldest, 1);
        this.#bytes -= PENDING_OVERHEAD_BYTES;
      }
    }
    return dropped;
  }
}

/** What a pending entry counts against `maxPendingBytes`: its bytes and its bookkeeping. */
function frameSize(frame: Pending): number {
  if (frame instanceof Refusal) return PENDING_OVERHEAD_BYTES;
  return PENDING_OVERHEAD_BYTES + (typeof frame === "string" ? frame.length : frame.byteLength);
}
