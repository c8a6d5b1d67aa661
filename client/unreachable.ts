/**
 * Why a request or a WebSocket handshake failed, in words: "connection refused: is the server
 * running at …?", "no realtime endpoint at /nope (HTTP 404)", "/ is an HTTP endpoint", the 401
 * or 403 of a refused handshake with the server's `detail`.
 *
 * Deno's `WebSocket` names a refused handshake's status in its `error` event
 * ("failed to connect to WebSocket: Invalid status code: 404"); browsers expose nothing. So
 * after a failed handshake the client asks once more with a plain `GET` of the same URL (no
 * `Upgrade`): a rally server answers 426 for a WebSocket route, 405 with `Allow: POST` for an
 * HTTP endpoint, 404 for no route, and 401/403/503 with a `detail` from the checks at its door.
 * Browser-safe.
 *
 * @module
 */
import { clientFetch } from "./memory.ts";

/** How long the follow-up request may take, in ms. */
const PROBE_MS = 3_000;

/**
 * The error `run()` and `stream()` throw when fetch itself failed (no answer at all): a
 * `TypeError`, as fetch's own, whose message names the URL and the cause.
 *
 * @param url The URL that was asked.
 * @param error What fetch threw.
 * @returns The error to throw (the original as `cause`), or `error` itself for an abort.
 */
export function fetchFailed(url: string | URL, error: unknown): unknown {
  if (!(error instanceof TypeError)) return error; // an abort, or a bug of the caller's
  const href = new URL(url);
  const cause = describeNetworkError(error, href.origin);
  return new TypeError(`Cannot reach ${redact(href)}: ${cause}`, { cause: error });
}

/** The words for a network error (Deno puts the OS's reason in `cause`). */
function describeNetworkError(error: Error, origin: string): string {
  const text = `${error.message} ${(error.cause as Error | undefined)?.message ?? ""}`;
  if (/connection refused|tcp connect error/i.test(text)) {
    return `connection refused: is the server running at ${origin}?`;
  }
  if (/dns error|lookup address|name or service not known/i.test(text)) {
    return "host not found (DNS lookup failed)";
  }
  if (/certificate|tls|ssl/i.test(text)) return `TLS failed: ${text.trim()}`;
  const said = (error.cause as Error | undefined)?.message ?? error.message;
  return `no answer (${said}): is the server running at ${origin}, and reachable from here?`;
}

/** What a failed handshake tells of itself (Deno only). */
export interface HandshakeFailure {
  /** The `error` event's message, when there was one. */
  message?: string;
}

/**
 * The cause of a WebSocket handshake that failed: read from Deno's error message, else from a
 * follow-up `GET` of the same URL.
 *
 * @param url The `ws(s)://` URL that failed.
 * @param kind What was expected there: `"realtime"`, `"WebSocket"`, `"WebRTC signaling"`.
 * @param failure What the socket's `error` event said.
 * @param headers Headers of the handshake (Deno only), sent again with the follow-up.
 * @param signal Aborts the follow-up (the caller gave up).
 * @returns The cause, in words.
 */
export async function whyNotConnected(
  url: URL,
  kind: string,
  failure: HandshakeFailure,
  headers?: Record<string, string>,
  signal?: AbortSignal,
): Promise<string> {
  const message = failure.message ?? "";
  const origin = `${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}`;
  if (/tcp connect error|connection refused/i.test(message)) {
    return `connection refused: is the server running at ${origin}?`;
  }
  const status = Number(/status code:?\s*(\d{3})/i.exec(message)?.[1]) || undefined;
  const probe = await probeHttp(url, headers, signal);
  if (probe === undefined) {
    return status
      ? statusCause(url.pathname, kind, status, undefined, undefined)
      : `no answer from ${origin}: is the server running, and reachable from here?`;
  }
  // The follow-up reached the route itself (426): the handshake's own status says more.
  if (probe.status === 426 && status !== undefined) {
    return statusCause(url.pathname, kind, status, undefined, undefined);
  }
  return statusCause(url.pathname, kind, probe.status, probe.detail, probe.allow);
}

function statusCause(
  path: string,
  kind: string,
  status: number,
  detail: string | undefined,
  allow: string | null | undefined,
): string {
  const said = detail ? `: ${detail}` : "";
  switch (status) {
    case 404:
      return `no ${kind} endpoint at ${path} (HTTP 404)`;
    case 405:
      return allow?.includes("POST")
        ? `${path} is an HTTP endpoint (it takes POST), not a ${kind} endpoint: call it with run() or stream()`
        : `${path} does not take a WebSocket (HTTP 405${allow ? `, Allow: ${allow}` : ""})`;
    case 401:
      return `refused by the server's auth (HTTP 401${said}): pass a valid key or token`;
    case 403:
      return `refused (HTTP 403${said}): the page's origin is not allowed, or the token is not for this app`;
    case 426:
      return `the server refused the WebSocket handshake at ${path}`;
    case 503:
      return `the server cannot take the session now (HTTP 503${said}): it is starting, full or shutting down`;
    default:
      return status < 300
        ? `${path} is not a WebSocket endpoint (a GET there answers HTTP ${status})`
        : `the handshake was refused with HTTP ${status}${said}`;
  }
}

/** A plain GET of a socket's URL, bounded in time. */
async function probeHttp(
  url: URL,
  headers: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
): Promise<{ status: number; detail?: string; allow: string | null } | undefined> {
  if (signal?.aborted) return undefined;
  const target = new URL(url);
  target.protocol = url.protocol === "wss:" ? "https:" : "http:";
  const abort = new AbortController();
  const stop = () => abort.abort();
  const timer = setTimeout(stop, PROBE_MS);
  signal?.addEventListener("abort", stop, { once: true });
  try {
    const response = await clientFetch(target, {
      headers,
      signal: abort.signal,
      redirect: "manual",
    });
    let detail: string | undefined;
    if ((response.headers.get("content-type") ?? "").includes("json")) {
      const body = await response.json().catch(() => undefined);
      const value = (body as { detail?: unknown } | undefined)?.detail;
      if (typeof value === "string") detail = value;
    } else await response.body?.cancel();
    return { status: response.status, detail, allow: response.headers.get("allow") };
  } catch {
    return undefined; // not running, unreachable, or (in a browser) a cross-origin page without CORS
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}

function redact(url: URL): string {
  const copy = new URL(url);
  for (const key of ["fal_jwt_token", "token"]) {
    if (copy.searchParams.has(key)) copy.searchParams.set(key, "***");
  }
  return copy.href;
}
