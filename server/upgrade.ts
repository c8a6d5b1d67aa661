/**
 * The WebSocket upgrade every WebSocket route goes through (realtime, raw, WebRTC signaling):
 * the handshake checked first (a malformed one gets 400, never a throw from
 * `Deno.upgradeWebSocket`), then the upgraded socket guarded before its session sees it:
 *
 * - a peer that sends no message within `firstMessageTimeout` seconds (1 to 1.25 times that:
 *   its clock is a shared coarse one) is closed;
 * - a message over 64 MiB, which can only come in fragments (Deno closes a single frame over
 *   64 MiB, and reassembles fragments with no cap), closes the socket with 1009;
 * - a text message too large for a JavaScript string (V8's limit, about 512 MiB) makes Deno's
 *   socket loop reject with `TypeError: failed to allocate string`, an unhandled rejection that
 *   would end the process: a listener contains that one error (the socket's read loop has died,
 *   so Deno's `idleTimeout` closes the connection; the bytes were freed already);
 * - a socket that rally (or a handler) closes is dropped if the peer has not answered the close
 *   frame within 5 s: Deno would otherwise keep it, and its session, until the peer's TCP
 *   connection ends.
 *
 * A request made by `testClient()` (`@rally/rally/testing`) is upgraded by it instead of Deno
 * ({@link upgradeWith}): the server end of an in-memory socket pair, guarded the same way.
 *
 * @module
 */
import { CloseCode, errorFrame, TIMEOUT_REASON } from "../protocol.ts";
import { fail } from "./response.ts";
import { deadline } from "../internal/ticker.ts";

/** Deno's cap on one WebSocket frame: a message over it was sent in fragments. */
export const FRAME_CEILING_BYTES: number = 64 * 1024 * 1024;

/**
 * Check a request that asks for a WebSocket upgrade (`Upgrade: websocket`) the way
 * `Deno.upgradeWebSocket` will, so that a malformed one gets an answer instead of a throw.
 *
 * @param request The upgrade request.
 * @returns A 400 (or 426 for a version other than 13) with a JSON `detail`, or `undefined`
 *   when the upgrade can go ahead.
 */
export function refuseHandshake(request: Request): Response | undefined {
  const headers = request.headers;
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return fail(400, "Malformed WebSocket upgrade: the Connection header must contain Upgrade");
  }
  const key = headers.get("sec-websocket-key");
  if (key === null || !WEBSOCKET_KEY.test(key.trim())) {
    return fail(
      400,
      "Malformed WebSocket upgrade: Sec-WebSocket-Key must be 16 random bytes in base64",
    );
  }
  const version = headers.get("sec-websocket-version");
  if (version === null) {
    return fail(400, "Malformed WebSocket upgrade: Sec-WebSocket-Version is missing (send 13)");
  }
  if (version.trim() !== "13") {
    // RFC 6455, 4.4: an unsupported version is answered with the versions the server speaks.
    return fail(426, `Unsupported WebSocket version ${version}: send Sec-WebSocket-Version: 13`, {
      "sec-websocket-version": "13",
    });
  }
  return undefined;
}

/** How {@link upgrade} guards a socket. */
export interface UpgradeOptions {
  /** Deno's `idleTimeout` in seconds (pings a silent peer, then closes it); 0 turns it off. */
  idleTimeout?: number;
  /** Seconds for the first message (`Infinity`: no limit). */
  firstMessageTimeout: number;
  /**
   * How the first-message timeout ends the session: `"realtime"` sends `TIMEOUT` then closes
   * with 1000 (fal's normal end: clients reconnect on their next send); `"websocket"` (raw
   * endpoints, WebRTC signaling) closes with 1008.
   */
  kind: "realtime" | "websocket";
}

/** An upgraded socket with its guards on. */
export interface Upgraded {
  /** The server socket. */
  socket: WebSocket;
  /** The 101 response. */
  response: Response;
  /** The peer is in use without having sent anything (a raw handler sent first): stop the clock. */
  spoke(): void;
}

/**
 * Upgrade a request (already checked by {@link refuseHandshake}) and guard its socket. The
 * guards' listeners come first, so a session's listeners never see an oversized message.
 *
 * @param request The upgrade request.
 * @param options The guards.
 * @returns The socket, the 101 response, and a way to stop the first-message clock.
 */
export function upgrade(request: Request, options: UpgradeOptions): Upgraded {
  containAllocationFailures();
  const denoOptions = options.idleTimeout === undefined
    ? undefined
    : { idleTimeout: options.idleTimeout };
  const { socket, response } = upgraders.get(request)?.(request) ??
    Deno.upgradeWebSocket(request, denoOptions);
  const seconds = options.firstMessageTimeout;
  // On the shared ticker, not a timer per socket: an idle connection's memory counts.
  let cancel = Number.isFinite(seconds)
    ? deadline(seconds * 1000, () => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (options.kind === "realtime") {
        socket.send(errorFrame("TIMEOUT", TIMEOUT_REASON));
        socket.close(CloseCode.NORMAL, "timeout");
      } else {
        socket.close(CloseCode.POLICY, `no message within ${seconds} s (firstMessageTimeout)`);
      }
    })
    : undefined;
  const stop = () => {
    cancel?.();
    cancel = undefined;
  };
  socket.addEventListener("message", (event) => {
    if (cancel) stop();
    const data = event.data as string | ArrayBuffer;
    const bytes = typeof data === "string" ? data.length : data.byteLength;
    if (bytes > FRAME_CEILING_BYTES) {
      event.stopImmediatePropagation();
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(
          1009, // message too big
          `message of ${bytes} bytes is over the 64 MiB a WebSocket frame may have`,
        );
      }
    }
  });
  socket.addEventListener("close", stop);
  dropUnansweredClose(socket);
  return { socket, response, spoke: stop };
}

/** Upgrades one request in place of Deno: how `testClient()` connects without a port. */
export type Upgrader = (request: Request) => { socket: WebSocket; response: Response };

const upgraders = new WeakMap<Request, Upgrader>();

/**
 * Have a request upgraded by `upgrader` instead of Deno, when the App upgrades it: the seam of
 * `testClient()`. Not part of the public API.
 *
 * @param request A request about to be passed to `app.fetch`.
 * @param upgrader Makes the socket pair and the 101 response.
 */
export function upgradeWith(request: Request, upgrader: Upgrader): void {
  upgraders.set(request, upgrader);
}

/** How long a peer has to answer a close frame before its connection is dropped, in ms. */
export const CLOSE_ANSWER_MS = 5_000;

/**
 * Drop the connection of a socket whose peer does not answer its close frame. Deno 2.9.6 waits
 * for the answer with no time limit (its `idleTimeout` stops once a socket is closing) and has
 * no public way to drop a server socket, so this closes Deno's resource for it, found through
 * `Deno[Deno.internal]`; where that is missing, it does nothing.
 */
function dropUnansweredClose(socket: WebSocket): void {
  const close = socket.close;
  let timer: ReturnType<typeof setTimeout> | undefined;
  socket.close = function (code?: number, reason?: string): void {
    close.call(socket, code, reason);
    if (timer !== undefined) return;
    timer = setTimeout(() => drop(socket), CLOSE_ANSWER_MS);
    socket.addEventListener("close", () => clearTimeout(timer));
  };
}

function drop(socket: WebSocket): void {
  if (socket.readyState === WebSocket.CLOSED) return;
  const deno = Deno as unknown as Record<symbol, { core?: { tryClose?: (rid: number) => void } }>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const tryClose = internal === undefined ? undefined : deno[internal]?.core?.tryClose;
  const rid = Object.getOwnPropertySymbols(socket).find((key) => key.description === "[[rid]]");
  if (typeof tryClose !== "function" || rid === undefined) return;
  const id = (socket as unknown as Record<symbol, unknown>)[rid];
  // Deno's read loop then ends and dispatches the close event.
  if (typeof id === "number") tryClose(id);
}

/** `Sec-WebSocket-Key`: 16 bytes in base64 (RFC 6455, 4.1). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Whether a comma-separated header lists `token` (case-insensitive). */
function hasToken(header: string | null, token: string): boolean {
  if (header === null) return false;
  return header.split(",").some((part) => part.trim().toLowerCase() === token);
}

let contained = false;

/**
 * Install, once per process (or worker), the listener that keeps a text message too large for
 * a string from ending the process. It takes only that error, from Deno's WebSocket code; any
 * other unhandled rejection goes on as before.
 */
export function containAllocationFailures(): void {
  if (contained) return;
  contained = true;
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isAllocationFailure(event.reason)) return;
    event.preventDefault();
    console.error(
      "rally: dropped a WebSocket text message too large for a string (over V8's limit of " +
        "about 512 MiB, sent in fragments); its connection closes after idleTimeout. Put a " +
        "proxy with a message cap in front, or cap memory per process (README: Deploying safely)",
    );
  });
}

/**
 * Whether an error is Deno's failure to make a string of a WebSocket message.
 *
 * @param error An unhandled rejection's reason.
 * @returns True for that error only.
 */
export function isAllocationFailure(error: unknown): boolean {
  return error instanceof TypeError &&
    error.message.startsWith("failed to allocate string") &&
    (error.stack ?? "").includes("ext:deno_websocket");
}
