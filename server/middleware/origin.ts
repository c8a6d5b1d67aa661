/**
 * The `Origin` check of WebSocket upgrades (`allowedOrigins`). Browsers send cookies and other
 * ambient credentials on cross-site WebSocket handshakes and CORS does not apply to them, so an
 * App that browsers reach names the sites allowed to open its sockets: a listed origin or no
 * `Origin` header (non-browser clients send none) passes, any other gets 403 before the
 * upgrade.
 *
 * @module
 */
import { fail } from "../response.ts";

/**
 * Check an `allowedOrigins` option and put it in the form browsers send (`scheme://host[:port]`,
 * lowercase, no default port, no path).
 *
 * @param origins The option, if set.
 * @returns The origins allowed, or `undefined` when any origin may connect.
 * @throws {TypeError} for an entry that is not an origin URL.
 */
export function readOrigins(origins: readonly string[] | undefined): Set<string> | undefined {
  if (origins === undefined) return undefined;
  if (!Array.isArray(origins)) throw new TypeError("allowedOrigins must be an array of origins");
  return new Set(origins.map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new TypeError(`allowedOrigins: ${JSON.stringify(origin)} is not an origin URL`);
    }
    if (url.origin === "null") {
      throw new TypeError(`allowedOrigins: ${JSON.stringify(origin)} has no origin`);
    }
    return url.origin;
  }));
}

/**
 * Check a WebSocket upgrade's `Origin` header.
 *
 * @param request The upgrade request.
 * @param allowed The origins allowed.
 * @returns Nothing when it passes, else the 403 to answer.
 */
export function checkOrigin(request: Request, allowed: Set<string>): Response | undefined {
  const origin = request.headers.get("origin");
  if (origin === null || allowed.has(origin.toLowerCase())) return undefined;
  return fail(403, `Origin ${origin} may not open WebSockets here`);
}
