/**
 * Bounded waits, shared by rally's server and client: for a promise, or for a socket's close,
 * never longer than a given time. Internal: not exported from the package's entry points.
 *
 * @example
 * ```ts
 * import { within } from "./within.ts";
 * import assert from "node:assert/strict";
 *
 * const started = performance.now();
 * await within(new Promise(() => {}), 10); // gives up after 10 ms: never hangs
 * assert.ok(performance.now() - started < 5_000);
 * await assert.rejects(within(Promise.reject(new Error("boom")), 1_000), /boom/);
 * ```
 *
 * @module
 */

/**
 * How long one side waits for its peer to answer a close frame, in milliseconds, on the server
 * (a session's shutdown, the raw WebSocket's) and on the client (a DataChannel's signaling
 * socket). Past it the side stops waiting: a peer that does not answer cannot hold a shutdown.
 * Waiting at all matters: `Deno.HttpServer.shutdown()` cuts sockets still in their closing
 * handshake, and a connection cut mid-handshake can lose its last frames. A live peer answers
 * within milliseconds; 2 s leaves room for a loaded machine or a proxy in between.
 */
export const CLOSE_WAIT_MS = 2_000;

/** What {@link closedWithin} needs of a socket (a WebSocket, or a DataChannel made to look one). */
export interface Closable {
  /** `WebSocket.CLOSED` (3) once closed. */
  readonly readyState: number;
  /** Listen for the close. */
  addEventListener(type: "close", listener: () => void): void;
  /** Stop listening. */
  removeEventListener(type: "close", listener: () => void): void;
}

/**
 * Wait until `promise` settles, or `ms` milliseconds at most.
 *
 * @param promise What to wait for; its rejection is passed on.
 * @param ms The most to wait.
 * @returns When either comes first.
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wait until `socket` has closed, or `ms` milliseconds at most.
 *
 * @param socket The socket.
 * @param ms The most to wait.
 * @returns When it has closed, or the time is up.
 */
export function closedWithin(socket: Closable, ms: number): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.removeEventListener("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.addEventListener("close", done);
  });
}
