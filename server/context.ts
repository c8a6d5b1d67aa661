/**
 * What handlers get besides their input ({@link Context}), and what routes need from their
 * App ({@link Host}).
 *
 * @module
 */
import type { StallClock } from "./stall_clock.ts";
import type { Codec } from "../codec.ts";
import type { RateLimit } from "./middleware/rate_limit.ts";
import type { SessionKind, SessionStats } from "./middleware/stats.ts";

/**
 * The context of one HTTP request or one WebSocket session, handed to every handler.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, (_input, ctx) => ({
 *   requestId: ctx.requestId, // the request's x-request-id, or a fresh UUID
 *   aborted: ctx.signal.aborted, // pass ctx.signal on to fetch() and the like
 * }));
 * const response = await app.fetch(
 *   new Request("http://localhost/", { method: "POST", headers: { "x-request-id": "req-1" } }),
 * );
 * assert.deepEqual(await response.json(), { requestId: "req-1", aborted: false });
 * ```
 */
export interface Context {
  /**
   * Aborts when the client goes away (disconnects, or cancels an SSE stream) or when the server
   * shuts down (after the drain's grace period).
   *
   * It is built on first use. For an HTTP endpoint it follows the request's own `signal`, and
   * in Deno 2.9.6 that signal also aborts after every successful response ("legacy behavior"),
   * and reading it first prints a one-time warning: work a handler leaves running after it has
   * returned sees an abort. For an SSE stream it follows the stream's cancellation instead; for
   * a WebSocket session, the socket's close.
   */
  readonly signal: AbortSignal;
  /** The request's `x-request-id` header, or a fresh UUID. */
  readonly requestId: string;
  /**
   * The HTTP request. For a WebSocket session, a copy of the upgrade request (its URL and
   * headers, method `GET`, no body) made before the upgrade, readable for the session's life.
   */
  readonly request: Request;
}

/** A WebSocket session the App can drain at shutdown. */
export interface Session {
  /**
   * Finish the work in hand for up to `graceMs`, then close with 1001.
   *
   * @param graceMs How long the session may take.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** What a route needs from the App that serves it. */
export interface Host {
  /** The codec for bodies and frames. */
  readonly codec: Codec;
  /** Aborts when the App shuts down. */
  readonly closing: AbortSignal;
  /** Report an error that a handler threw (the client sees only a generic message). */
  reportError(error: unknown, ctx: Context): void;
  /**
   * Keep a session until it ends, so that shutdown can drain it.
   *
   * @returns A function that forgets the session.
   */
  track(session: Session): () => void;
  /** Seconds a WebSocket peer has to send its first message (`Infinity`: no limit). */
  readonly firstMessageTimeout: number;
  /** Seconds a request body may stall between chunks (`Infinity`: no limit). */
  readonly bodyTimeout: number;
  /** Gives up on body reads that take over `bodyTimeout`. */
  readonly stallClock: StallClock;
  /** The per-connection rate limit of realtime sessions, when the App sets one. */
  readonly rateLimit?: RateLimit;
  /**
   * Start counting a session's traffic (logged and measured when logs or metrics are on).
   *
   * @returns The numbers the session bumps as it goes.
   */
  sessionStats(kind: SessionKind, ctx: Context, socket: SessionSocket): SessionStats;
}

/**
 * What a realtime session uses of its socket: a server `WebSocket`, or a WebRTC DataChannel
 * presented as one.
 */
export interface SessionSocket {
  /** Set to `"arraybuffer"` by the session. */
  binaryType: BinaryType;
  /** Called once the socket is open. */
  onopen: ((event: Event) => void) | null;
  /** Called with each message: an `ArrayBuffer` (or a view) for binary, a string for text. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Called once the socket has closed. */
  onclose: ((event: CloseEvent) => void) | null;
  /** `WebSocket.CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  readonly readyState: number;
  /** Bytes sent but not yet on the wire. */
  readonly bufferedAmount: number;
  /**
   * Send one message: text, or binary.
   *
   * @param data The message; the bytes may be reused once the call returns.
   */
  send(data: string | Uint8Array): void;
  /**
   * Close the socket.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  close(code?: number, reason?: string): void;
  /**
   * Listen for the close.
   *
   * @param type `"close"`.
   * @param listener Called once closed.
   */
  addEventListener(type: "close", listener: (event: CloseEvent) => void): void;
  /**
   * Stop listening for the close.
   *
   * @param type `"close"`.
   * @param listener As given to `addEventListener`.
   */
  removeEventListener(type: "close", listener: (event: CloseEvent) => void): void;
}

/**
 * Build the context of a request. For a WebSocket session, pass the signal itself: the request
 * id is then read at once, since the upgrade request closes after the handshake.
 *
 * @param request The request.
 * @param signal The signal handlers see, or a function that makes it on first use.
 * @returns The context.
 */
export function createContext(
  request: Request,
  signal: AbortSignal | (() => AbortSignal),
): Context {
  return new RequestContext(request, signal);
}

/** A class, not an object literal with getters: V8 shares one shape across all contexts. */
class RequestContext implements Context {
  #request?: Request;
  /** A WebSocket session's upgrade request, as read before the upgrade closed it. */
  #upgrade?: { url: string; headers: [string, string][] };
  #signal?: AbortSignal;
  #makeSignal?: () => AbortSignal;
  #requestId?: string;

  constructor(request: Request, signal: AbortSignal | (() => AbortSignal)) {
    if (typeof signal === "function") {
      this.#request = request;
      this.#makeSignal = signal;
    } else {
      // Deno's upgraded request throws "Request closed" on any header read: keep a copy.
      this.#signal = signal;
      this.#requestId = requestIdOf(request);
      // Pairs, made into a Request when a handler asks: about 0.5 KiB a session (Deno's own
      // iteration keeps about 1.5 KiB more on the upgrade request, which it holds anyway).
      this.#upgrade = { url: request.url, headers: [...request.headers] };
    }
  }

  get request(): Request {
    return this.#request ??= new Request(this.#upgrade!.url, { headers: this.#upgrade!.headers });
  }

  /** The request's URL, without making a WebSocket session's copy of its request. */
  get url(): string {
    return this.#upgrade?.url ?? this.#request!.url;
  }

  get signal(): AbortSignal {
    return this.#signal ??= this.#makeSignal!();
  }

  get requestId(): string {
    return this.#requestId ??= requestIdOf(this.request);
  }
}

/**
 * The URL of a context's request, read without making a WebSocket session's copy of it.
 *
 * @param ctx A context made by {@link createContext}.
 * @returns The request's URL.
 */
export function urlOf(ctx: Context): string {
  return ctx instanceof RequestContext ? ctx.url : ctx.request.url;
}

/** Where a request keeps its id once read (a symbol property: a WeakMap entry cost ~1 µs). */
const REQUEST_ID: unique symbol = Symbol("rally.requestId");

/**
 * A request's id: its `x-request-id` header, else a UUID, read or made once per request, so that
 * the handler's `ctx.requestId` and the request's log line agree.
 *
 * @param request The request.
 * @returns Its id.
 */
export function requestIdOf(request: Request): string {
  // Deno's own Request keeps what it reads on the object too (a frozen one cannot be served).
  const held = request as Request & { [REQUEST_ID]?: string };
  return held[REQUEST_ID] ??= request.headers.get("x-request-id") ?? crypto.randomUUID();
}
