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
import { CLOSE_WAIT_MS, closedWithin } from "../internal/within.ts";
import { TimerSet } from "../internal/timer_set.ts";
import { RateLimiter } from "./middleware/rate_limit.ts";
import { check, type Checked, outputFailed, summarize } from "./schema.ts";
import type { SessionStats } from "./middleware/stats.ts";
import { type Frame, type Pending, PendingInputs, Refusal } from "./pending_inputs.ts";
import { closeWhenQuiet, HeldRefusals, MAX_REFUSALS_IN_A_ROW } from "./refusals.ts";
import { DropReport } from "./drop_report.ts";
import { Heartbeat } from "./heartbeat.ts";
import { DRAIN_POLL_MS, HIGH_WATER_MARK } from "./socket_bound.ts";

/** What the input of a streaming-input session gives once it has ended. */
const END = Symbol("end of input");

/** A realtime session on an upgraded socket; it runs itself from the socket's events. */
export class RealtimeSession implements Session {
  #socket: SessionSocket;
  #route: RealtimeRoute;
  #host: Host;
  #ctx: Context;
  #abort: AbortController;
  #pending: PendingInputs;
  #busy = false;
  #closed = false;
  #draining = false;
  #inputEnded = false;
  #awaitingInput = false;
  #refused = 0;
  /** Inputs refused in a row, with no valid input between them. */
  #strikes = 0;
  /** Refusals out of turn, held while the socket does not drain. */
  #refusals?: HeldRefusals;
  /** Made on the first drop, like {@link HeldRefusals} on the first refusal: an idle session's memory counts. */
  #drops?: DropReport;
  #lastActivity = performance.now();
  /** Frames sent, counted; the heartbeat reads it instead of a clock per frame. */
  #sends = 0;
  /** Whether the handler's time is measured (a clock read per output is not free). */
  #timed: boolean;
  /** The session's timers, cleared when it ends (none start after). */
  #timers = new TimerSet();
  #heartbeat?: Heartbeat;
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
    this.#pending = new PendingInputs(route);
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
        this.#timers.after(graceMs, resolve);
      });
    }
    if (this.#closed) return;
    const unprocessed = this.#pending.length + this.#refused + (this.#busy ? 1 : 0);
    this.#drops?.flush();
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
    if (route.heartbeat > 0 && !this.#closed) {
      // The silence counts from the open, hello or not.
      const sends = () => this.#sends;
      this.#heartbeat = new Heartbeat(route.heartbeat * 1000, this.#socket, sends);
      this.#heartbeat.start();
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
    let dropped: number;
    if (tooLarge) {
      // Not decoded, but its refusal waits its turn: answers go out in order.
      dropped = this.#pending.refuse("MESSAGE_TOO_LARGE", tooLarge);
      if (this.#strike("MESSAGE_TOO_LARGE")) return;
    } else dropped = this.#pending.push(data);
    if (dropped > 0) {
      this.#drops ??= new DropReport(this.#socket, this.#sendText, this.#timers, this.#stats);
      this.#drops.note(dropped);
    }
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
        const frames = this.#pending.take(route.maxBatchSize);
        const inputs: unknown[] = [];
        for (const frame of frames) {
          this.#pending.release(frame);
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

  /** Refuse out of turn (an input after the end of input, a rate warning): see {@link HeldRefusals}. */
  #refuseNow(code: ErrorCode, reason: string, retryable?: boolean): void {
    this.#stats.error(code);
    this.#refusals ??= new HeldRefusals(this.#socket, this.#sendText, this.#timers);
    this.#refusals.refuse(code, reason, retryable);
  }

  /**
   * Close the session for a policy reason: a closing error frame (`closing: true`, which tells
   * clients to stop: the close alone can be lost), the session ends, and the socket closes with
   * 1008 once the client has stopped sending.
   */
  #expel(code: ErrorCode, reason: string, closeReason: string, retryable?: boolean): void {
    if (this.#closed) return;
    this.#drops?.flush();
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

  /** {@link RealtimeSession.#send} for the session's parts (made when the first needs it). */
  get #sendText(): (data: string) => void {
    return (data) => this.#send(data);
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
    this.#drops?.flush();
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
        else this.#timers.after(DRAIN_POLL_MS, poll);
      };
      poll();
    });
  }

  #armTimeout(ms: number): void {
    this.#timers.after(ms, () => {
      const timeoutMs = this.#route.sessionTimeout * 1000;
      const idleMs = performance.now() - this.#lastActivity;
      if (idleMs < timeoutMs) return this.#armTimeout(timeoutMs - idleMs);
      const waiting = this.#route.mode === "unary" ? !this.#busy : this.#awaitingInput;
      if (!waiting || this.#pending.length > 0) return this.#armTimeout(timeoutMs);
      if (this.#route.mode === "client_streaming" || this.#route.mode === "bidi") this.#endInput();
      else this.#finish();
    });
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clear();
    this.#heartbeat?.stop();
    this.#pending.clear();
    this.#refusals?.clear();
    this.#abort.abort();
    this.#forget();
    this.#wakeUp();
    this.#resume?.();
    this.#onIdle?.();
  }
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
