/**
 * `connect()`: the callback form of rally's realtime client, built for browser loops where the
 * latest frame wins. `send` is fire-and-forget (throttled when asked, the newest input winning);
 * results and errors arrive by callback; lost connections are noticed (a missed heartbeat) and
 * replaced with jittered exponential backoff. Browser-safe.
 *
 * @module
 */
import { CloseCode, RealtimeError } from "../protocol.ts";
import { encodeInput, helloLimit, readFrame } from "./frames.ts";
import {
  closeCode,
  endpointUrl,
  openSocket,
  type RealtimeSocket,
  type SocketOptions,
} from "./socket.ts";
import { openDataChannel, type TransportOptions } from "./webrtc.ts";
import { TimerSet } from "../internal/timer_set.ts";

/**
 * How the callback client retries after losing its connection.
 *
 * @example
 * ```ts
 * import { connect, type ReconnectOptions } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * // Nothing listens on port 9: two quick attempts, then onError says it gave up.
 * const reconnect: ReconnectOptions = { baseMs: 10, capMs: 50, attempts: 2 };
 * const gaveUp = Promise.withResolvers<string>();
 * const handle = connect("http://127.0.0.1:9", {
 *   reconnect,
 *   onResult() {},
 *   onError: (error) => gaveUp.resolve(error.code),
 * });
 * assert.equal(await gaveUp.promise, "CONNECTION_CLOSED");
 * handle.close();
 * ```
 */
export interface ReconnectOptions {
  /** First delay, in ms (before jitter). Default 250. */
  baseMs?: number;
  /** Longest delay, in ms. Default 5,000. */
  capMs?: number;
  /** Attempts before giving up. Default 10. */
  attempts?: number;
}

/**
 * Options of {@link connect}.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { connect, type ConnectOptions } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/live", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const opened = Promise.withResolvers<void>();
 * const closed = Promise.withResolvers<number>();
 * const options: ConnectOptions<unknown> = {
 *   path: "/live",
 *   onResult() {},
 *   onOpen: () => opened.resolve(),
 *   onClose: (event) => closed.resolve(event.code),
 *   heartbeat: 15, // seconds: silence for twice this is a dead connection
 * };
 * const handle = connect(url, options);
 * await opened.promise;
 * handle.close();
 * assert.equal(await closed.promise, 1000);
 * ```
 */
export interface ConnectOptions<O> extends Omit<SocketOptions, "signal">, TransportOptions {
  /** Path of the realtime endpoint (`transport: "webrtc"`: of the signaling endpoint). Default
   * `"/realtime"` (`"/webrtc"`). */
  path?: string;
  /** Called with each output. */
  onResult: (result: O) => void;
  /** Called with each error frame but `TIMEOUT`, inputs refused locally, and giving up. */
  onError?: (error: RealtimeError) => void;
  /** Called each time a connection opens. */
  onOpen?: () => void;
  /** Called each time a connection closes, with its code. */
  onClose?: (event: { code: number; reason: string }) => void;
  /**
   * Send at most one input per this many **milliseconds**, leading and trailing, the latest
   * winning. Default 0. The one duration in rally not in seconds: it keeps fal-js's name and unit.
   */
  throttleInterval?: number;
  /** Ask the server to keep at most this many pending inputs (1..60). */
  maxBuffering?: number;
  /** Called before every connection attempt for a fresh token (e.g. from your `/tokens` proxy). */
  tokenProvider?: () => string | Promise<string>;
  /** Retry policy after a lost connection, or `false` for none. */
  reconnect?: ReconnectOptions | false;
  /**
   * The server's ping interval in seconds: silence for twice this is a dead connection. Default
   * 15; 0 turns the check off. The check starts once the server has sent a meta frame (`hello` or
   * `ping`): servers that never ping (fal's) are not taken for dead when quiet.
   */
  heartbeat?: number;
}

/**
 * The handle {@link connect} returns.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { connect, type RealtimeHandle } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * let next = Promise.withResolvers<unknown>();
 * const closed = Promise.withResolvers<void>();
 * const handle: RealtimeHandle<{ n: number }> = connect(url, {
 *   onResult: (output) => next.resolve(output),
 *   onClose: () => closed.resolve(),
 * });
 * handle.send({ n: 1 }); // fire-and-forget: it waits for the connection to open
 * assert.deepEqual(await next.promise, { n: 1 });
 * next = Promise.withResolvers();
 * handle.send({ n: 2 });
 * assert.deepEqual(await next.promise, { n: 2 });
 * handle.close(); // for good: no reconnects
 * await closed.promise;
 * ```
 */
export interface RealtimeHandle<I> {
  /**
   * Send an input, fire-and-forget: throttled when asked; while connecting, only the newest
   * input waits.
   *
   * @param input The input.
   */
  send(input: I): void;
  /** Close for good: no more reconnects. */
  close(): void;
}

/** Failures before a connection opens, in a row, that mean it never will (likely auth). */
const FATAL_FAILURES_BEFORE_OPEN = 3;
/** Close codes after which the client reconnects by itself. */
const RETRIED_CODES = new Set([CloseCode.GOING_AWAY, 1006, CloseCode.INTERNAL]);

/**
 * Connect to a realtime endpoint, callback style (fal's `realtime.connect`).
 *
 * @param url The server's base URL, `http(s)://` or `ws(s)://`.
 * @param options Callbacks, throttle, tokens, retry policy.
 * @returns `{ send, close }`.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { connect } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const result = Promise.withResolvers<{ n: number }>();
 * const closed = Promise.withResolvers<void>();
 * const handle = connect<{ n: number }, { n: number }>(url, {
 *   throttleInterval: 64, // in ms, as fal-js's (durations elsewhere are in seconds)
 *   onResult: (output) => result.resolve(output),
 *   onError: (error) => result.reject(error),
 *   onClose: () => closed.resolve(),
 * });
 * handle.send({ n: 1 });
 * assert.deepEqual(await result.promise, { n: 1 });
 * handle.close();
 * await closed.promise;
 * ```
 */
export function connect<I = Record<string, unknown>, O = Record<string, unknown>>(
  url: string | URL,
  options: ConnectOptions<O>,
): RealtimeHandle<I> {
  return new CallbackConnection<I, O>(url, options);
}

class CallbackConnection<I, O> implements RealtimeHandle<I> {
  #url: string | URL;
  #options: ConnectOptions<O>;
  #socket?: RealtimeSocket;
  /** `draining`: the server said SHUTTING_DOWN; inputs wait for the next connection. */
  #state: "idle" | "connecting" | "open" | "draining" | "closed" = "idle";
  #waiting?: { input: I };
  #throttled?: { input: I };
  #lastSentAt = -Infinity;
  #lastHeardAt = 0;
  #pings = false;
  #maxBytes = Infinity;
  #attempt = 0;
  #failuresBeforeOpen = 0;
  /** Reconnecting after losing an open connection: failed attempts spend the budget only. */
  #recovering = false;
  #timers = new TimerSet();
  /** Aborts a WebSocket handshake in flight (and the look into why it failed) on `close()`. */
  #connecting = new AbortController();

  constructor(url: string | URL, options: ConnectOptions<O>) {
    this.#url = url;
    this.#options = options;
    this.#connect();
  }

  send(input: I): void {
    if (this.#state === "closed") return;
    const interval = this.#options.throttleInterval ?? 0;
    const wait = this.#lastSentAt + interval - performance.now();
    if (interval <= 0 || (wait <= 0 && !this.#throttled)) return this.#dispatch(input);
    const due = !this.#throttled;
    this.#throttled = { input };
    if (due) {
      this.#timers.after(Math.max(0, wait), () => {
        const latest = this.#throttled!;
        this.#throttled = undefined;
        this.#dispatch(latest.input);
      });
    }
  }

  close(): void {
    this.#state = "closed";
    this.#connecting.abort();
    this.#timers.clear();
    this.#waiting = this.#throttled = undefined;
    this.#socket?.close(CloseCode.NORMAL);
  }

  #dispatch(input: I): void {
    this.#lastSentAt = performance.now();
    if (this.#state !== "open") {
      this.#waiting = { input };
      if (this.#state === "idle") this.#connect();
      return;
    }
    try {
      this.#socket!.send(encodeInput(input, this.#maxBytes));
    } catch (error) {
      this.#report(error as RealtimeError);
    }
  }

  async #connect(): Promise<void> {
    this.#state = "connecting";
    const options = this.#options;
    const { token, tokenProvider, maxBuffering, headers, key } = options;
    const webrtc = options.transport === "webrtc";
    const path = options.path ?? (webrtc ? "/webrtc" : "/realtime");
    let socket: RealtimeSocket;
    try {
      const fresh = tokenProvider ? await tokenProvider() : token;
      const target = endpointUrl(this.#url, path, true, {
        fal_jwt_token: fresh,
        max_buffering: maxBuffering,
      });
      if (this.#stopped()) return;
      socket = webrtc
        ? await openDataChannel(target, { ...options, headers, key, signal: undefined })
        : await openSocket(target, { headers, key, signal: this.#connecting.signal }, "realtime");
    } catch (error) {
      if (this.#stopped()) return; // closed while connecting (or while finding out why it failed)
      return this.#lost(0, error instanceof RealtimeError ? error.reason : String(error), false);
    }
    if (this.#stopped()) return void socket.close(CloseCode.NORMAL);
    this.#socket = socket;
    this.#state = "open";
    this.#attempt = this.#failuresBeforeOpen = 0;
    this.#recovering = false;
    this.#lastHeardAt = performance.now();
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#closed(socket, closeCode(event), event.reason);
    this.#watch(socket);
    this.#options.onOpen?.();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) this.#dispatch(waiting.input);
  }

  #receive(data: ArrayBuffer | Uint8Array | string): void {
    this.#lastHeardAt = performance.now();
    let frame;
    try {
      frame = readFrame(data);
    } catch (error) {
      return this.#report(new RealtimeError("INTERNAL_ERROR", String(error)));
    }
    if (frame.kind === "output") this.#options.onResult(frame.value as O);
    else if (frame.kind === "error") {
      // The server takes no more input and closes next: the latest input waits for the
      // reconnect instead of being refused.
      if (frame.error.code === "SHUTTING_DOWN" && this.#state === "open") this.#state = "draining";
      if (frame.error.code !== "TIMEOUT") this.#report(frame.error);
      if (frame.error.closing === true) this.#expelled(frame.error);
    } else {
      this.#pings = true;
      this.#maxBytes = helloLimit(frame.meta) ?? this.#maxBytes;
    }
  }

  #closed(socket: RealtimeSocket, code: number, reason: string): void {
    if (socket !== this.#socket) return; // replaced after a missed heartbeat
    this.#socket = undefined;
    this.#options.onClose?.({ code, reason });
    if (this.#state === "closed") return;
    this.#lost(code, reason, true);
  }

  /**
   * The server closes the session for a policy reason (rate limit, refused inputs) after this
   * closing frame: the frame is final, as the 1008 close would be, and the close itself can be
   * lost while this side is still sending (it then looks like 1006, which would reconnect).
   */
  #expelled(error: RealtimeError): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = undefined;
    socket.onmessage = socket.onclose = null;
    socket.close(CloseCode.NORMAL);
    this.#options.onClose?.({ code: CloseCode.POLICY, reason: error.reason });
    if (this.#state !== "closed") this.#lost(CloseCode.POLICY, error.reason, true);
  }

  /** A connection ended or never opened: go idle, retry, or give up. */
  #lost(code: number, reason: string, opened: boolean): void {
    this.#state = "idle";
    if (code === CloseCode.NORMAL) return; // TIMEOUT: the next send reconnects
    const policy = this.#options.reconnect;
    const { baseMs = 250, capMs = 5_000, attempts = 10 } = policy || {};
    // Failures before open are likely auth when connecting afresh; after a lost connection they
    // are likely a server restarting, which the attempts and their backoff are for.
    if (opened) this.#recovering = true;
    else if (!this.#recovering && ++this.#failuresBeforeOpen >= FATAL_FAILURES_BEFORE_OPEN) {
      return this.#giveUp(
        `could not connect ${FATAL_FAILURES_BEFORE_OPEN} times in a row (${reason})`,
      );
    }
    if (opened && !RETRIED_CODES.has(code)) {
      return this.#giveUp(`closed with code ${code} (${reason})`);
    }
    if (policy === false || ++this.#attempt > attempts) {
      return this.#giveUp(
        `connection lost after ${this.#attempt - 1} reconnect attempts (${reason})`,
      );
    }
    const delay = Math.min(capMs, baseMs * 2 ** (this.#attempt - 1)) * (0.5 + Math.random() / 2);
    this.#state = "connecting";
    this.#timers.after(delay, () => this.#connect());
  }

  #giveUp(reason: string): void {
    this.#state = "closed";
    this.#report(new RealtimeError("CONNECTION_CLOSED", reason));
  }

  /** Treat a connection that has been silent for two heartbeats as dead. */
  #watch(socket: RealtimeSocket): void {
    const heartbeatMs = (this.#options.heartbeat ?? 15) * 1000;
    if (heartbeatMs <= 0) return;
    const check = () => {
      if (socket !== this.#socket) return;
      if (!this.#pings || performance.now() - this.#lastHeardAt <= 2 * heartbeatMs) {
        return this.#timers.after(heartbeatMs / 2, check);
      }
      this.#socket = undefined;
      socket.onmessage = socket.onclose = null;
      socket.close();
      this.#options.onClose?.({ code: 1006, reason: "no heartbeat from the server" });
      if (this.#state !== "closed") this.#lost(1006, "no heartbeat from the server", true);
    };
    this.#timers.after(heartbeatMs / 2, check);
  }

  /** Whether `close()` was called or the client gave up (state may change across awaits). */
  #stopped(): boolean {
    return this.#state === "closed";
  }

  #report(error: RealtimeError): void {
    this.#options.onError?.(error);
  }
}
