/**
 * One realtime session. A receive side puts raw frames in a bounded pending buffer (the oldest
 * drops when it overflows: latest frames win); a run side takes them, decodes, validates, calls
 * the handler and sends its outputs, pausing while the socket does not drain. The two sides meet
 * only at the pending buffer; the handler never sees the socket.
 *
 * @module
 */
import { DecodeError } from "../codec.ts";
import {
  CloseCode,
  END_OF_INPUT,
  type ErrorCode,
  errorFrame,
  type HelloLimits,
  metaFrame,
  RealtimeError,
  TIMEOUT_REASON,
} from "../protocol.ts";
import type { Context, Host, Session, SessionSocket } from "./context.ts";
import type { RealtimeRoute } from "./routes.ts";
import { closedWithin } from "../internal/within.ts";
import { RateLimiter } from "./middleware/rate_limit.ts";
import { check, type Checked, outputFailed, summarize } from "./schema.ts";
import type { SessionStats } from "./middleware/stats.ts";

/** Past this many unsent bytes on the socket, the session stops taking work. */
const HIGH_WATER_MARK = 1024 * 1024;
/** How often a paused session looks at the socket again, in milliseconds. */
const DRAIN_POLL_MS = 5;
/** `dropped` frames go out at most this often, in milliseconds. */
const DROPPED_INTERVAL_MS = 100;
/**
 * How long shutdown waits for the client to answer the close frame, in milliseconds: the server
 * stops right after, and cutting the connection mid-handshake can lose the last frames.
 */
const CLOSE_WAIT_MS = 1_000;
/** What the input of a streaming-input session gives once it has ended. */
const END = Symbol("end of input");
/**
 * Refused inputs in a row (`INVALID_INPUT`, `MESSAGE_TOO_LARGE`), with no valid input between
 * them, after which the session is closed with 1008: a client that keeps sending garbage.
 */
export const MAX_REFUSALS_IN_A_ROW = 100;
/** What one pending input costs beyond its bytes (its buffer object, its slot): counted too. */
export const PENDING_OVERHEAD_BYTES = 128;
/** After a closing frame, the longest wait for the client to stop sending, in milliseconds. */
const LINGER_MS = 1_000;
/** A client silent this long after a closing frame has stopped sending, in milliseconds. */
const LINGER_QUIET_MS = 50;

/** A received frame: binary (a WebSocket's `ArrayBuffer`, or a view from a DataChannel) or text. */
type Frame = ArrayBuffer | Uint8Array | string;

/**
 * The refusal of a frame (over `maxMessageBytes`), waiting in the pending buffer for its turn to
 * be sent; repeated ones next to each other collapse into one with a count. A plain object, not
 * an `Error`: a stack trace per refused frame is what made piled-up refusals cost a gigabyte.
 */
class Refusal {
  count = 1;
  constructor(readonly code: ErrorCode, readonly reason: string) {}
}

/** A pending frame, or a refusal waiting for its turn. */
type Pending = Frame | Refusal;

/** A refusal out of turn (after the end of input, over the rate), held while the socket is full. */
interface Held {
  reason: string;
  count: number;
  retryable?: boolean;
}

/** A realtime session on an upgraded socket; it runs itself from the socket's events. */
export class RealtimeSession implements Session {
  #socket: SessionSocket;
  #route: RealtimeRoute;
  #host: Host;
  #ctx: Context;
  #abort: AbortController;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #busy = false;
  #closed = false;
  #draining = false;
  #inputEnded = false;
  #awaitingInput = false;
  #refused = 0;
  /** Inputs refused in a row, with no valid input between them. */
  #strikes = 0;
  /** Refusals out of turn waiting for the socket to drain, by code. */
  #held = new Map<ErrorCode, Held>();
  #unreportedDrops = 0;
  #lastDropReport = -Infinity;
  #lastActivity = performance.now();
  /** Frames sent, counted; the ping timer reads it instead of a clock per frame. */
  #sends = 0;
  #sendsSeen = 0;
  /** When the ping timer last saw frames sent since its previous look, or sent a ping. */
  #quietSince = performance.now();
  /** Whether the handler's time is measured (a clock read per output is not free). */
  #timed: boolean;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #wake?: () => void;
  #resume?: () => void;
  #onIdle?: () => void;
  #forget: () => void;
  #stats: SessionStats;
  #limiter: RateLimiter | undefined;

  /**
   * Run a session on a socket.
   *
   * @param socket The upgraded socket, or a DataChannel presented as one (not yet open).
   * @param route The endpoint, with the session's own `buffering`.
   * @param ctx The handler's context, made before the upgrade closed the request.
   * @param abort Aborts `ctx.signal`; the session aborts it when it ends.
   * @param host The App serving it.
   */
  constructor(
    socket: SessionSocket,
    route: RealtimeRoute,
    ctx: Context,
    abort: AbortController,
    host: Host,
  ) {
    this.#socket = socket;
    this.#route = route;
    this.#host = host;
    this.#ctx = ctx;
    this.#abort = abort;
    this.#forget = host.track(this);
    this.#stats = host.sessionStats("realtime", ctx, socket);
    this.#limiter = host.rateLimit && new RateLimiter(host.rateLimit);
    this.#timed = route.emitTimings || this.#stats.timed;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.#open();
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = () => this.#end();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.#draining = true;
    this.#endInput();
    if (this.#busy || this.#pending.length > 0) {
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        this.#after(graceMs, resolve);
      });
    }
    if (this.#closed) return;
    const unprocessed = this.#pending.length + this.#refused + (this.#busy ? 1 : 0);
    this.#reportDrops();
    this.#stats.error("SHUTTING_DOWN");
    this.#send(
      errorFrame("SHUTTING_DOWN", "server is shutting down", { retryable: true, unprocessed }),
    );
    this.#socket.close(CloseCode.GOING_AWAY, "server is shutting down");
    this.#end();
    await closedWithin(this.#socket, CLOSE_WAIT_MS);
  }

  #open(): void {
    const route = this.#route;
    if (route.hello) {
      const limits: HelloLimits = {
        maxMessageBytes: route.maxMessageBytes,
        buffering: Number.isFinite(route.buffering) ? route.buffering : null,
        maxBatchSize: route.maxBatchSize,
        sessionTimeout: Number.isFinite(route.sessionTimeout) ? route.sessionTimeout : null,
      };
      this.#send(metaFrame("hello", { limits }));
    }
    if (Number.isFinite(route.sessionTimeout)) this.#armTimeout(route.sessionTimeout * 1000);
    if (route.heartbeat > 0) {
      this.#sendsSeen = this.#sends; // the silence counts from the open, hello or not
      this.#quietSince = performance.now();
      this.#armPing();
    }
    if (route.mode !== "unary") this.#runStreaming();
  }

  #receive(data: Frame): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#refused++;
      return;
    }
    if (data === END_OF_INPUT) {
      if (this.#route.mode !== "unary") this.#endInput();
      return;
    }
    this.#stats.messagesIn++;
    const route = this.#route;
    const size = typeof data === "string" ? textSize(data, route.maxMessageBytes) : data.byteLength;
    // Every frame counts against the rate, an oversized one too (it was read all the same).
    if (this.#limiter !== undefined && !this.#limiter.take(size, performance.now())) {
      return this.#overRate();
    }
    const tooLarge = size > route.maxMessageBytes
      ? `message of ${size} bytes is over the limit of ${route.maxMessageBytes}`
      : undefined;
    if (this.#inputEnded) {
      // Nothing is pending after the end: answered out of turn, within the socket's bound.
      if (tooLarge) this.#refuseNow("MESSAGE_TOO_LARGE", tooLarge);
      else this.#refuseNow("INVALID_INPUT", "the input has ended");
      this.#strike(tooLarge ? "MESSAGE_TOO_LARGE" : "INVALID_INPUT");
      return;
    }
    this.#noteActivity();
    const pending = this.#pending;
    if (tooLarge) {
      // Not decoded, but its refusal waits its turn: answers go out in order.
      const last = pending.at(-1);
      if (last instanceof Refusal && last.code === "MESSAGE_TOO_LARGE") last.count++;
      else {
        pending.push(new Refusal("MESSAGE_TOO_LARGE", tooLarge));
        this.#pendingBytes += PENDING_OVERHEAD_BYTES;
      }
      if (this.#strike("MESSAGE_TOO_LARGE")) return;
    } else {
      pending.push(data);
      this.#pendingBytes += frameSize(data);
    }
    let dropped = 0;
    while (
      pending.length > 1 &&
      (pending.length > route.buffering || this.#pendingBytes > route.maxPendingBytes)
    ) {
      // The oldest input drops; a waiting refusal never does (it collapses with its neighbour).
      const oldest = pending[0] instanceof Refusal
        ? pending.findIndex((entry) => !(entry instanceof Refusal))
        : 0;
      if (oldest < 0 || oldest === pending.length - 1) break;
      this.#pendingBytes -= frameSize(pending.splice(oldest, 1)[0]);
      dropped++;
      const before = pending[oldest - 1];
      const after = pending[oldest];
      if (before instanceof Refusal && after instanceof Refusal && before.code === after.code) {
        before.count += after.count;
        pending.splice(oldest, 1);
        this.#pendingBytes -= PENDING_OVERHEAD_BYTES;
      }
    }
    if (dropped > 0) this.#noteDrops(dropped);
    if (route.mode !== "unary") this.#wakeUp();
    else if (!this.#busy) this.#runUnary();
  }

  async #runUnary(): Promise<void> {
    this.#busy = true;
    const route = this.#route;
    try {
      while (!this.#closed && this.#pending.length > 0) {
        if (this.#socket.bufferedAmount > HIGH_WATER_MARK) {
          await this.#drained();
          continue;
        }
        const frames = route.maxBatchSize > 1
          ? this.#pending.splice(0, route.maxBatchSize)
          : [this.#pending.shift()!];
        const inputs: unknown[] = [];
        for (const frame of frames) {
          this.#pendingBytes -= frameSize(frame);
          let input = this.#decode(frame);
          if (input instanceof Promise) input = await input;
          if (input instanceof RealtimeError) this.#error(input);
          else inputs.push(input);
        }
        if (inputs.length === 0) continue;
        const started = this.#clock();
        try {
          let output = route.handler(route.maxBatchSize > 1 ? inputs : inputs[0], this.#ctx);
          if (output instanceof Promise) output = await output;
          const sent = this.#sendOutput(output, started);
          if (sent) await sent;
        } catch (error) {
          this.#fail(error);
        }
      }
    } finally {
      this.#busy = false;
      this.#noteActivity();
      this.#onIdle?.();
    }
  }

  async #runStreaming(): Promise<void> {
    this.#busy = true;
    const { mode, handler } = this.#route;
    try {
      let started = this.#clock();
      let result: unknown;
      if (mode === "server_streaming") {
        const input = await this.#firstValidInput();
        if (input === END) return;
        started = this.#clock();
        result = handler(input, this.#ctx);
      } else {
        result = handler(this.#inputs(), this.#ctx);
      }
      if (mode === "client_streaming") {
        await this.#sendOutput(await result, started);
        return;
      }
      for await (const output of result as AsyncIterable<unknown>) {
        await this.#sendOutput(output, started);
        if (this.#closed) break;
        if (this.#socket.bufferedAmount > HIGH_WATER_MARK) await this.#drained();
        started = this.#clock();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#busy = false;
      this.#onIdle?.();
      // While draining, shutdown() ends the session with SHUTTING_DOWN instead.
      if (!this.#draining) this.#finish();
    }
  }

  async #firstValidInput(): Promise<unknown> {
    for (;;) {
      try {
        return await this.#nextInput();
      } catch (error) {
        this.#fail(error);
      }
    }
  }

  /** The inputs of a streaming-input session; an invalid one throws its `RealtimeError`. */
  #inputs(): AsyncIterable<unknown> {
    const iterator: AsyncIterableIterator<unknown> = {
      next: async () => {
        const value = await this.#nextInput();
        return value === END ? { done: true, value: undefined } : { done: false, value };
      },
      // Leaving a `for await` early does not end the input: the handler may read on.
      return: () => Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  async #nextInput(): Promise<unknown> {
    for (;;) {
      const frame = this.#pending.shift();
      if (frame !== undefined) {
        this.#pendingBytes -= frameSize(frame);
        let input = this.#decode(frame);
        if (input instanceof Promise) input = await input;
        if (input instanceof RealtimeError) throw input;
        return input;
      }
      if (this.#inputEnded || this.#closed) return END;
      this.#awaitingInput = true;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#awaitingInput = false;
    }
  }

  /**
   * Decode and validate one frame: the input, or the `RealtimeError` to answer it with; a
   * promise of either only for an async schema (an `await` per message costs CPU time).
   */
  #decode(frame: Pending): unknown {
    if (frame instanceof Refusal) {
      return new RealtimeError(frame.code, frame.reason, {
        count: frame.count > 1 ? frame.count : undefined,
      });
    }
    let value: unknown;
    const codec = this.#host.codec;
    try {
      value = typeof frame === "string" ? codec.decodeText(frame) : codec.decode(frame);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return this.#tally(new RealtimeError("INVALID_INPUT", error.message));
    }
    let checked: Checked | Promise<Checked>;
    try {
      checked = check(this.#route.input, value);
    } catch (error) {
      return this.#schemaFailed(error);
    }
    return checked instanceof Promise
      ? checked.then((result) => this.#tally(inputOf(result)), (error) => this.#schemaFailed(error))
      : this.#tally(inputOf(checked));
  }

  /** Count a decoded frame: a valid input clears the refusals in a row, a refused one adds one. */
  #tally(input: unknown): unknown {
    if (!(input instanceof RealtimeError)) this.#strikes = 0;
    else this.#strike("INVALID_INPUT");
    return input;
  }

  /**
   * One more input refused in a row; at {@link MAX_REFUSALS_IN_A_ROW} the session is closed
   * (a closing frame, then 1008).
   *
   * @returns Whether the session was closed.
   */
  #strike(code: ErrorCode): boolean {
    if (++this.#strikes < MAX_REFUSALS_IN_A_ROW) return false;
    this.#expel(
      code,
      `${this.#strikes} inputs in a row were refused: closing the session`,
      "too many refused inputs",
    );
    return true;
  }

  /** A schema that throws (a failing transform) is a server bug, not a bad input. */
  #schemaFailed(error: unknown): RealtimeError {
    this.#host.reportError(error, this.#ctx);
    return new RealtimeError("INTERNAL_ERROR", "the input schema failed");
  }

  /**
   * Validate, encode and send one output; throws when it fails its schema or cannot encode.
   * Returns a promise only for an async schema.
   */
  #sendOutput(output: unknown, started: number): Promise<void> | undefined {
    const checked = check(this.#route.output, output);
    if (checked instanceof Promise) {
      return checked.then((result) => this.#sendChecked(result, started));
    }
    this.#sendChecked(checked, started);
  }

  #sendChecked(checked: Checked, started: number): void {
    if (checked.issues) {
      throw outputFailed(checked.issues);
    }
    this.#send(this.#host.codec.encodeShared(checked.value));
    const seconds = this.#timed ? (performance.now() - started) / 1000 : 0;
    this.#stats.messagesOut++;
    this.#stats.handled(seconds);
    if (this.#route.emitTimings) this.#send(metaFrame("timings", { timing: seconds }));
  }

  /**
   * An input over the rate limit is refused: a warning first, then, if it goes on, a closing
   * `RATE_LIMITED` frame and close 1008.
   */
  #overRate(): void {
    this.#stats.rateLimited++;
    const limiter = this.#limiter!;
    const refusal = limiter.refuse(performance.now());
    if (refusal === "warn") this.#refuseNow("RATE_LIMITED", limiter.reason, true);
    else if (refusal === "close") {
      this.#expel("RATE_LIMITED", limiter.reason, "rate limit exceeded", true);
    }
  }

  /**
   * Refuse out of turn (an input after the end of input, a rate warning): sent at once while the
   * socket drains; while it does not, held, and repeated ones collapse into one frame with a
   * `count`, sent once it drains. Memory stays one entry per code, whatever the client sends.
   */
  #refuseNow(code: ErrorCode, reason: string, retryable?: boolean): void {
    this.#stats.error(code);
    const held = this.#held.get(code);
    if (held) {
      held.count++;
      return;
    }
    if (this.#held.size === 0 && this.#socket.bufferedAmount <= HIGH_WATER_MARK) {
      return this.#send(errorFrame(code, reason, retryable ? { retryable } : undefined));
    }
    this.#held.set(code, { reason, count: 1, retryable });
    if (this.#held.size === 1) this.#after(DRAIN_POLL_MS, () => this.#sendHeld());
  }

  /** Send the held refusals once the socket has drained. */
  #sendHeld(): void {
    if (this.#socket.bufferedAmount > HIGH_WATER_MARK / 2) {
      return this.#after(DRAIN_POLL_MS, () => this.#sendHeld());
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

  /**
   * Close the session for a policy reason: a closing error frame (`closing: true`, which tells
   * clients to stop: the close alone can be lost), the session ends, and the socket closes with
   * 1008 once the client has stopped sending.
   */
  #expel(code: ErrorCode, reason: string, closeReason: string, retryable?: boolean): void {
    if (this.#closed) return;
    this.#reportDrops();
    this.#stats.error(code);
    this.#send(errorFrame(code, reason, { retryable: retryable || undefined, closing: true }));
    const socket = this.#socket;
    this.#end();
    closeWhenQuiet(socket, CloseCode.POLICY, closeReason);
  }

  /** Answer a failure: a `RealtimeError` as its own frame, anything else as `INTERNAL_ERROR`. */
  #fail(error: unknown): void {
    if (error instanceof RealtimeError && error.code !== "CONNECTION_CLOSED") {
      return this.#error(error);
    }
    this.#host.reportError(error, this.#ctx);
    this.#error(new RealtimeError("INTERNAL_ERROR", "the handler failed"));
  }

  #error(error: RealtimeError): void {
    if (error.code === "CONNECTION_CLOSED") return;
    this.#stats.error(error.code);
    const count = error.count && error.count > 1 ? error.count : undefined;
    this.#send(
      errorFrame(
        error.code,
        error.reason,
        error.issues || count ? { issues: error.issues, count } : undefined,
      ),
    );
  }

  #send(data: string | Uint8Array): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(data);
    this.#sends++;
  }

  /** `performance.now()` when the handler's time is measured, else 0. */
  #clock(): number {
    return this.#timed ? performance.now() : 0;
  }

  /** Input came or work ended: the idle `sessionTimeout` counts from now. */
  #noteActivity(): void {
    if (this.#route.sessionTimeout !== Infinity) this.#lastActivity = performance.now();
  }

  /** Normal end: `TIMEOUT`, then close 1000. */
  #finish(): void {
    if (this.#closed) return;
    this.#reportDrops();
    this.#error(new RealtimeError("TIMEOUT", TIMEOUT_REASON));
    this.#socket.close(CloseCode.NORMAL, "timeout");
    this.#end();
  }

  #endInput(): void {
    this.#inputEnded = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#resume = resolve;
      const poll = () => {
        if (this.#closed || this.#socket.bufferedAmount <= HIGH_WATER_MARK / 2) resolve();
        else this.#after(DRAIN_POLL_MS, poll);
      };
      poll();
    });
  }

  #armTimeout(ms: number): void {
    this.#after(ms, () => {
      const timeoutMs = this.#route.sessionTimeout * 1000;
      const idleMs = performance.now() - this.#lastActivity;
      if (idleMs < timeoutMs) return this.#armTimeout(timeoutMs - idleMs);
      const waiting = this.#route.mode === "unary" ? !this.#busy : this.#awaitingInput;
      if (!waiting || this.#pending.length > 0) return this.#armTimeout(timeoutMs);
      if (this.#route.mode === "client_streaming" || this.#route.mode === "bidi") this.#endInput();
      else this.#finish();
    });
  }

  /**
   * A ping goes out once nothing was sent for `heartbeat` seconds. Frames are counted, not timed
   * (a clock read per frame costs CPU): the timer looks every quarter heartbeat, so the silence
   * before a ping is 1 to 1.25 heartbeats (a client's watchdog allows 2).
   */
  #armPing(): void {
    const intervalMs = this.#route.heartbeat * 1000;
    this.#after(Math.min(intervalMs / 4, this.#quietSince + intervalMs - performance.now()), () => {
      const now = performance.now();
      if (this.#sends !== this.#sendsSeen) {
        this.#sendsSeen = this.#sends;
        this.#quietSince = now;
      } else if (
        now - this.#quietSince >= intervalMs && this.#socket.bufferedAmount <= HIGH_WATER_MARK
      ) {
        this.#send(metaFrame("ping"));
        this.#sendsSeen = this.#sends;
        this.#quietSince = now;
      }
      this.#armPing();
    });
  }

  #noteDrops(count: number): void {
    this.#stats.dropped += count;
    const first = this.#unreportedDrops === 0;
    this.#unreportedDrops += count;
    if (!first) return; // a report is already due
    const wait = this.#lastDropReport + DROPPED_INTERVAL_MS - performance.now();
    if (wait <= 0) this.#reportDropsWhenDrained();
    else this.#after(wait, () => this.#reportDropsWhenDrained());
  }

  /** A `dropped` report counts against the socket's bound too: while it is full, counts add up. */
  #reportDropsWhenDrained(): void {
    if (this.#socket.bufferedAmount <= HIGH_WATER_MARK) this.#reportDrops();
    else this.#after(DROPPED_INTERVAL_MS, () => this.#reportDropsWhenDrained());
  }

  #reportDrops(): void {
    if (this.#unreportedDrops === 0) return;
    this.#send(metaFrame("dropped", { count: this.#unreportedDrops }));
    this.#unreportedDrops = 0;
    this.#lastDropReport = performance.now();
  }

  /** A timer that the session clears when it ends. */
  #after(ms: number, callback: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#held.clear();
    this.#abort.abort();
    this.#forget();
    this.#wakeUp();
    this.#resume?.();
    this.#onIdle?.();
  }
}

/** What a pending entry counts against `maxPendingBytes`: its bytes and its bookkeeping. */
function frameSize(frame: Pending): number {
  if (frame instanceof Refusal) return PENDING_OVERHEAD_BYTES;
  return PENDING_OVERHEAD_BYTES + (typeof frame === "string" ? frame.length : frame.byteLength);
}

/**
 * Close a socket whose client may still be sending, without losing the close. Deno answers a
 * `close()` with input still unread by resetting the connection, and the client's kernel then
 * throws away what the client had not read yet: the last frames and the close frame (the client
 * saw 1006 and reconnected). So the socket is read, its frames dropped, until the client closes
 * it, or is silent for {@link LINGER_QUIET_MS}, or {@link LINGER_MS} have passed; then it closes.
 */
function closeWhenQuiet(socket: SessionSocket, code: number, reason: string): void {
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

/** The UTF-8 size of a text frame, counted exactly only when it could pass `limit`. */
function textSize(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : new TextEncoder().encode(text).length;
}

/** The input a schema's result holds, or the `INVALID_INPUT` refusal of its issues. */
function inputOf(checked: Checked): unknown {
  if (!checked.issues) return checked.value;
  return new RealtimeError("INVALID_INPUT", summarize(checked.issues), { issues: checked.issues });
}
