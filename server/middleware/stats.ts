/**
 * The numbers one WebSocket session keeps while it runs (messages in and out, dropped inputs,
 * error frames by code, handler time), read by the log line at its close and by `/metrics`.
 * The realtime hot path touches them as plain number increments: nothing is allocated per
 * message.
 *
 * @module
 */

/** Upper bounds of the latency histograms' buckets, in seconds (then `+Inf`). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A latency histogram kept as plain numbers: `observe` allocates nothing. */
export class Histogram {
  /** The buckets' upper bounds, in seconds. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly counts: Float64Array;
  /** The sum of all observations, in seconds. */
  sum = 0;
  /** How many observations. */
  count = 0;

  /**
   * Make an empty histogram.
   *
   * @param bounds The buckets' upper bounds, ascending.
   */
  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Count one observation.
   *
   * @param seconds The value.
   */
  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

/** What kind of WebSocket endpoint a session belongs to. */
export type SessionKind = "realtime" | "websocket";

/** The traffic of one WebSocket session, kept as plain numbers. */
export class SessionStats {
  /** The endpoint's kind. */
  readonly kind: SessionKind;
  /** The upgrade request's path. */
  readonly path: string;
  /** The session's request id (`x-request-id`, or a fresh UUID). */
  readonly requestId: string;
  /** When the session began (`performance.now()`). */
  readonly openedAt: number = performance.now();
  /** Messages received (realtime: input frames, end-of-input aside). */
  messagesIn = 0;
  /** Messages sent (realtime: output frames, not control frames). */
  messagesOut = 0;
  /** Inputs dropped by the pending buffer (the latest win). */
  dropped = 0;
  /** Inputs refused by the rate limit. */
  rateLimited = 0;
  /** Handler calls (realtime: outputs) timed. */
  handlerCalls = 0;
  /** Their total time, in seconds. */
  handlerSeconds = 0;
  /** Error frames sent, by code; made at the first one. */
  errors: Record<string, number> | undefined;
  /** The close code, once closed. */
  closeCode: number | undefined;
  /** Whether the handlers' time is wanted (logs or metrics are on). */
  timed = false;
  #latency: Histogram | undefined;

  /**
   * Start counting a session.
   *
   * @param kind The endpoint's kind.
   * @param path The upgrade request's path.
   * @param requestId The session's request id.
   * @param latency The App's handler-latency histogram, when metrics are on.
   */
  constructor(kind: SessionKind, path: string, requestId: string, latency?: Histogram) {
    this.kind = kind;
    this.path = path;
    this.requestId = requestId;
    this.#latency = latency;
  }

  /**
   * Count one handler call (for streams, one output) and its time.
   *
   * @param seconds How long it took.
   */
  handled(seconds: number): void {
    this.handlerCalls++;
    this.handlerSeconds += seconds;
    this.#latency?.observe(seconds);
  }

  /**
   * Count one error frame sent.
   *
   * @param code Its code.
   */
  error(code: string): void {
    const errors = this.errors ??= {};
    errors[code] = (errors[code] ?? 0) + 1;
  }
}
