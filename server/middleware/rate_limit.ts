/**
 * The per-connection rate limit of realtime sessions: two token buckets, messages per second
 * and bytes per second. An input over the rate is refused (never handled): the first refusal
 * sends a `RATE_LIMITED` error frame (`retryable: true`) as a warning; a connection still over
 * the rate `graceMs` after the warning is closed with 1008. One that stays within the rate for
 * `graceMs` (and at least a second) is forgiven: its next refusal warns again.
 *
 * @module
 */
import { checkNumber } from "../options.ts";

/**
 * The `rateLimit` option of an App: what one realtime connection may send.
 *
 * @example
 * ```ts
 * import { App, type RateLimit, realtime, serve } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * // 30 frames/s and 8 MiB/s per connection, bursts of up to 2 s of either.
 * const rateLimit: RateLimit = { messages: 30, bytes: 8 * 1024 * 1024, burst: 2 };
 * const app = new App({ rateLimit }).realtime("/realtime", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 * await using conn = await realtime(url);
 * conn.send({ n: 1 });
 * assert.deepEqual(await conn.receive(), { n: 1 });
 * ```
 */
export interface RateLimit {
  /** Inputs per second, sustained. Default: no limit on the count. */
  messages?: number;
  /** Input bytes per second, sustained. Default: no limit on bytes. */
  bytes?: number;
  /** Seconds of traffic at the full rate that may come at once (the buckets' size). Default 1. */
  burst?: number;
  /** How long a connection may stay over the rate after the warning before close 1008, in ms. Default 1,000. */
  graceMs?: number;
}

/** A connection is forgiven after this long without refusals at least, in ms. */
const MIN_FORGIVE_MS = 1000;

/** What to do with an input over the rate. */
export type Refusal = "warn" | "drop" | "close";

/**
 * Check a `rateLimit` option.
 *
 * @param limit The option, if set.
 * @returns The option, or `undefined` when unset.
 * @throws {RangeError} for a rate that is not a positive number, or no rate at all.
 */
export function checkRateLimit(limit: RateLimit | undefined): RateLimit | undefined {
  if (limit === undefined) return undefined;
  const { messages, bytes, burst = 1, graceMs = 1000 } = limit;
  if (messages === undefined && bytes === undefined) {
    throw new RangeError(
      "Cannot start the App: rateLimit needs messages or bytes (per second), received neither",
    );
  }
  const action = "start the App";
  const finite = { above: 0, max: Number.MAX_VALUE };
  checkNumber(action, "rateLimit.messages", messages, finite);
  checkNumber(action, "rateLimit.bytes", bytes, finite);
  checkNumber(action, "rateLimit.burst", burst, finite);
  checkNumber(action, "rateLimit.graceMs", graceMs, { min: 0, max: Number.MAX_VALUE });
  return limit;
}

/** The rate limit of one connection. */
export class RateLimiter {
  #messageRate: number;
  #byteRate: number;
  #messageCapacity: number;
  #byteCapacity: number;
  #graceMs: number;
  #messages: number;
  #bytes: number;
  #last: number | undefined;
  #warnedAt: number | undefined;
  #lastRefusal = -Infinity;

  /**
   * Make full buckets.
   *
   * @param limit The checked option.
   */
  constructor(limit: RateLimit) {
    const burst = limit.burst ?? 1;
    this.#messageRate = limit.messages ?? Infinity;
    this.#byteRate = limit.bytes ?? Infinity;
    this.#messageCapacity = Math.max(1, this.#messageRate * burst);
    this.#byteCapacity = this.#byteRate * burst;
    this.#graceMs = limit.graceMs ?? 1000;
    this.#messages = this.#messageCapacity;
    this.#bytes = this.#byteCapacity;
  }

  /** The reason of the warning frame. */
  get reason(): string {
    const rates = [];
    if (Number.isFinite(this.#messageRate)) rates.push(`${this.#messageRate} messages/s`);
    if (Number.isFinite(this.#byteRate)) rates.push(`${this.#byteRate} bytes/s`);
    return `over the rate limit of ${rates.join(" and ")}: slow down`;
  }

  /**
   * Take one input of `size` bytes from the buckets. The bytes bucket may go into debt, so an
   * input larger than the bucket still passes when it is full (the average rate holds).
   *
   * @param size The input's size in bytes.
   * @param now `performance.now()`.
   * @returns Whether the input is within the rate.
   */
  take(size: number, now: number): boolean {
    const elapsed = this.#last === undefined ? 0 : Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    // An unset rate stays at an infinite capacity (and Infinity * 0 would be NaN).
    if (this.#messageRate < Infinity) {
      this.#messages = Math.min(
        this.#messageCapacity,
        this.#messages + elapsed * this.#messageRate,
      );
    }
    if (this.#byteRate < Infinity) {
      this.#bytes = Math.min(this.#byteCapacity, this.#bytes + elapsed * this.#byteRate);
    }
    if (this.#messages < 1 || this.#bytes <= 0) return false;
    this.#messages -= 1;
    this.#bytes -= size;
    return true;
  }

  /**
   * What to do with an input that {@link RateLimiter.take} refused.
   *
   * @param now `performance.now()`.
   * @returns `"warn"` (send `RATE_LIMITED`), `"drop"` (warned already) or `"close"` (1008).
   */
  refuse(now: number): Refusal {
    if (now - this.#lastRefusal > Math.max(this.#graceMs, MIN_FORGIVE_MS)) {
      this.#warnedAt = undefined; // within the rate long enough: forgiven
    }
    this.#lastRefusal = now;
    if (this.#warnedAt === undefined) {
      this.#warnedAt = now;
      return "warn";
    }
    return now - this.#warnedAt >= this.#graceMs ? "close" : "drop";
  }
}
