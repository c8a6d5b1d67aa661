/**
 * What handlers get besides their input ({@link Context}), and what routes need from their
 * App ({@link Host}).
 *
 * @module
 */
import type { Codec } from "../codec.ts";

/**
 * The context of one HTTP request or one WebSocket session, handed to every handler.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 *
 * new App().endpoint("/", {}, async (_input, ctx) => {
 *   const response = await fetch("https://example.com", { signal: ctx.signal });
 *   return { requestId: ctx.requestId, status: response.status };
 * });
 * ```
 */
export interface Context {
  /** Aborts when the client disconnects or the server shuts down. */
  readonly signal: AbortSignal;
  /** The request's `x-request-id` header, or a fresh UUID. */
  readonly requestId: string;
  /** The HTTP request (for a WebSocket session, the upgrade request). */
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
}

/**
 * Build the context of a request.
 *
 * @param request The request.
 * @param signal The signal handlers see; by default the request's own, joined with `closing`
 * when that is given (built on first use).
 * @returns The context.
 */
export function createContext(
  request: Request,
  signal: AbortSignal | (() => AbortSignal),
): Context {
  let resolved: AbortSignal | undefined = typeof signal === "function" ? undefined : signal;
  let requestId: string | undefined;
  return {
    request,
    get signal() {
      return resolved ??= (signal as () => AbortSignal)();
    },
    get requestId() {
      return requestId ??= request.headers.get("x-request-id") ?? crypto.randomUUID();
    },
  };
}
