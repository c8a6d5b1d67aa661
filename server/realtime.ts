/**
 * Realtime sessions: one input per frame in, one output per frame out, over a persistent
 * WebSocket. A receive side puts raw frames in a bounded pending buffer (the oldest drops when
 * it overflows: latest frames win); a run side takes 1..maxBatchSize of them, decodes,
 * validates, calls the handler and sends the output, pausing while the socket does not drain.
 * The two sides meet only at the pending buffer; the handler never sees the socket.
 *
 * @module
 */
import { DecodeError, decodeText } from "../codec.ts";
import {
  CloseCode,
  END_OF_INPUT,
  type ErrorCode,
  errorFrame,
  type Issue,
  TIMEOUT_REASON,
} from "../protocol.ts";
import { type Context, createContext, type Host, type Session } from "./context.ts";
import { check, type Checked, type In, type Out, type Schema, summarize } from "./schema.ts";

/** Options of a realtime endpoint. */
export interface RealtimeOptions<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
> {
  /** Schema of one input; failures get `INVALID_INPUT` with `issues`. */
  input?: I;
  /** Schema of one output; failures get `INTERNAL_ERROR`. */
  output?: O;
  /** Largest frame accepted, in bytes (`MESSAGE_TOO_LARGE` past it). Default: the App's. */
  maxMessageBytes?: number;
  /** Most pending inputs; a new one past it drops the oldest. Default: unbounded (fal's). */
  buffering?: number;
  /** Most pending bytes; a new input past it drops the oldest. Default 64 MiB. */
  maxPendingBytes?: number;
  /** When over 1, the handler always gets an array of 1..maxBatchSize inputs. Default 1. */
  maxBatchSize?: B;
  /** Seconds without input (and nothing pending) before `TIMEOUT` and close 1000. */
  sessionTimeout?: number;
}

/** A realtime handler's input: one input, or an array of them when `maxBatchSize` is over 1. */
export type RealtimeInput<I extends Schema | undefined, B extends number | undefined> = [B] extends
  [undefined | 1] ? In<I> : In<I>[];

/** A realtime endpoint's handler: called once per input (or batch), in arrival order. */
export type RealtimeHandler<
  I extends Schema | undefined,
  O extends Schema | undefined,
  B extends number | undefined,
> = (input: RealtimeInput<I, B>, ctx: Context) => Out<O> | Promise<Out<O>>;

/** A realtime endpoint as the App keeps it, its options resolved. */
export interface RealtimeRoute {
  /** Input schema. */
  input?: Schema;
  /** Output schema. */
  output?: Schema;
  /** Frame cap in bytes. */
  maxMessageBytes: number;
  /** Pending-count bound (`Infinity` when unbounded). */
  buffering: number;
  /** Pending-bytes bound. */
  maxPendingBytes: number;
  /** Batch size; over 1, the handler gets arrays. */
  maxBatchSize: number;
  /** Idle timeout in seconds (`Infinity`: none). */
  sessionTimeout: number;
  /** The handler. */
  handler: (input: unknown, ctx: Context) => unknown;
}

/** Pending bytes by default: 64 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Past this many unsent bytes on the socket, the session stops taking work. */
const HIGH_WATER_MARK = 1024 * 1024;
/** How often a paused session looks at the socket again, in milliseconds. */
const DRAIN_POLL_MS = 5;

type Frame = ArrayBuffer | string;

/**
 * Upgrade a request to a realtime session.
 *
 * @param route The endpoint.
 * @param request The upgrade request (checked to have `Upgrade: websocket`).
 * @param host The App serving it.
 * @returns The 101 response.
 */
export function acceptRealtime(route: RealtimeRoute, request: Request, host: Host): Response {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const wish = Number(new URL(request.url).searchParams.get("max_buffering"));
  const buffering = wish >= 1
    ? Math.min(route.buffering, Math.min(60, Math.floor(wish)))
    : route.buffering;
  new RealtimeSession(socket, { ...route, buffering }, request, host);
  return response;
}

class RealtimeSession implements Session {
  #socket: WebSocket;
  #route: RealtimeRoute;
  #host: Host;
  #ctx: Context;
  #abort = new AbortController();
  #pending: Frame[] = [];
  #pendingBytes = 0;
  #busy = false;
  #closed = false;
  #draining = false;
  #refused = 0;
  #lastActivity = performance.now();
  #timer?: ReturnType<typeof setTimeout>;
  #pollTimer?: ReturnType<typeof setTimeout>;
  #resume?: () => void;
  #onIdle?: () => void;
  #forget: () => void;

  constructor(socket: WebSocket, route: RealtimeRoute, request: Request, host: Host) {
    this.#socket = socket;
    this.#route = route;
    this.#host = host;
    this.#ctx = createContext(request, this.#abort.signal);
    this.#forget = host.track(this);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.#armTimer(route.sessionTimeout * 1000);
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = () => this.#end();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.#draining = true;
    if (this.#busy || this.#pending.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    if (this.#closed) return;
    const unprocessed = this.#pending.length + this.#refused + (this.#busy ? 1 : 0);
    this.#send(
      errorFrame("SHUTTING_DOWN", "server is shutting down", { retryable: true, unprocessed }),
    );
    this.#socket.close(CloseCode.GOING_AWAY, "server is shutting down");
    this.#end();
  }

  #receive(data: Frame): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#refused++;
      return;
    }
    if (typeof data === "string" && data === END_OF_INPUT) return;
    const size = typeof data === "string"
      ? textSize(data, this.#route.maxMessageBytes)
      : data.byteLength;
    if (size > this.#route.maxMessageBytes) {
      this.#error(
        "MESSAGE_TOO_LARGE",
        `message of ${size} bytes is over the limit of ${this.#route.maxMessageBytes}`,
      );
      return;
    }
    this.#lastActivity = performance.now();
    const pending = this.#pending;
    pending.push(data);
    this.#pendingBytes += frameSize(data);
    while (
      pending.length > 1 &&
      (pending.length > this.#route.buffering || this.#pendingBytes > this.#route.maxPendingBytes)
    ) {
      this.#pendingBytes -= frameSize(pending.shift()!);
    }
    if (!this.#busy) this.#run();
  }

  async #run(): Promise<void> {
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
        for (const frame of frames) this.#pendingBytes -= frameSize(frame);
        const inputs: unknown[] = [];
        for (const frame of frames) {
          const input = await this.#decode(frame);
          if (input !== INVALID) inputs.push(input);
        }
        if (inputs.length > 0) {
          await this.#call(route.maxBatchSize > 1 ? inputs : inputs[0]);
        }
      }
    } finally {
      this.#busy = false;
      this.#lastActivity = performance.now();
      this.#onIdle?.();
    }
  }

  async #decode(frame: Frame): Promise<unknown> {
    let value: unknown;
    try {
      value = typeof frame === "string" ? decodeText(frame) : this.#host.codec.decode(frame);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.#error("INVALID_INPUT", error.message);
      return INVALID;
    }
    let checked: Checked;
    try {
      const result = check(this.#route.input, value);
      checked = result instanceof Promise ? await result : result;
    } catch (error) {
      // A schema that throws (a failing transform) is a server bug, not a bad input.
      this.#host.reportError(error, this.#ctx);
      this.#error("INTERNAL_ERROR", "the input schema failed");
      return INVALID;
    }
    if (!checked.issues) return checked.value;
    this.#error("INVALID_INPUT", summarize(checked.issues), checked.issues);
    return INVALID;
  }

  async #call(input: unknown): Promise<void> {
    let bytes: Uint8Array;
    try {
      let output = this.#route.handler(input, this.#ctx);
      if (output instanceof Promise) output = await output;
      let checked = check(this.#route.output, output);
      if (checked instanceof Promise) checked = await checked;
      if (checked.issues) {
        throw new TypeError(`Output failed its schema: ${summarize(checked.issues)}`);
      }
      bytes = this.#host.codec.encodeShared(checked.value);
    } catch (error) {
      this.#host.reportError(error, this.#ctx);
      this.#error("INTERNAL_ERROR", "the handler failed");
      return;
    }
    this.#send(bytes);
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const poll = () => {
        if (this.#closed || this.#socket.bufferedAmount <= HIGH_WATER_MARK / 2) resolve();
        else this.#pollTimer = setTimeout(poll, DRAIN_POLL_MS);
      };
      this.#resume = resolve;
      poll();
    });
  }

  #armTimer(ms: number): void {
    if (!Number.isFinite(ms) || this.#closed) return;
    this.#timer = setTimeout(() => {
      const timeoutMs = this.#route.sessionTimeout * 1000;
      const idleMs = performance.now() - this.#lastActivity;
      if (this.#busy || this.#pending.length > 0) this.#armTimer(timeoutMs);
      else if (idleMs < timeoutMs) this.#armTimer(timeoutMs - idleMs);
      else {
        this.#error("TIMEOUT", TIMEOUT_REASON);
        this.#socket.close(CloseCode.NORMAL, "timeout");
        this.#end();
      }
    }, ms);
  }

  #error(code: ErrorCode, reason: string, issues?: Issue[]): void {
    this.#send(errorFrame(code, reason, issues ? { issues } : undefined));
  }

  #send(data: string | Uint8Array): void {
    if (!this.#closed && this.#socket.readyState === WebSocket.OPEN) this.#socket.send(data);
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#pollTimer);
    this.#resume?.();
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#abort.abort();
    this.#forget();
    this.#onIdle?.();
  }
}

const INVALID = Symbol("invalid");

function frameSize(frame: Frame): number {
  return typeof frame === "string" ? frame.length : frame.byteLength;
}

/** The UTF-8 size of a text frame, counted exactly only when it could pass `limit`. */
function textSize(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : new TextEncoder().encode(text).length;
}
