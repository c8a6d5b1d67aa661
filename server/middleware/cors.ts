/**
 * CORS for HTTP and SSE endpoints (and their preflight `OPTIONS`), with Hono's `cors`
 * middleware. It is never applied to WebSocket upgrades: it sets headers on the response, and
 * a 101's headers cannot change; `allowedOrigins` guards upgrades instead.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/**
 * The `cors` option of an App (`true`: any origin, the headers a preflight asks for).
 *
 * @example
 * ```ts
 * import { App, type CorsOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const cors: CorsOptions = {
 *   origins: ["https://studio.example.com"],
 *   headers: ["authorization", "content-type"],
 * };
 * const app = new App({ cors }).endpoint("/", {}, () => ({ ok: true }));
 * const response = await app.fetch(
 *   new Request("http://localhost/", {
 *     method: "POST",
 *     headers: { origin: "https://studio.example.com" },
 *   }),
 * );
 * assert.equal(response.headers.get("access-control-allow-origin"), "https://studio.example.com");
 * await response.body?.cancel();
 * ```
 */
export interface CorsOptions {
  /** Origins allowed to read responses, or `"*"` for any. Default `"*"`. */
  origins?: readonly string[] | "*";
  /** Request headers allowed. Default: whatever the preflight asks for. */
  headers?: readonly string[];
  /** Response headers a page may read besides the simple ones. */
  exposeHeaders?: readonly string[];
  /** Let pages send cookies (`Access-Control-Allow-Credentials`); needs a list of origins. */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight's answer. */
  maxAge?: number;
}

/**
 * Make the CORS middleware of a `cors` option; it passes WebSocket upgrades through untouched.
 *
 * @param option The option.
 * @returns The middleware, or `undefined` when the option is unset or `false`.
 * @throws {TypeError} for `credentials` with any origin (browsers refuse that pair).
 */
export function corsMiddleware(
  option: boolean | CorsOptions | undefined,
): MiddlewareHandler | undefined {
  if (!option) return undefined;
  const options = option === true ? {} : option;
  const origins = options.origins ?? "*";
  if (options.credentials && origins === "*") {
    throw new TypeError('cors.credentials needs a list of origins, not "*"');
  }
  const middleware = cors({
    origin: origins === "*" ? "*" : [...origins],
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: options.headers ? [...options.headers] : [],
    exposeHeaders: options.exposeHeaders ? [...options.exposeHeaders] : [],
    credentials: options.credentials,
    maxAge: options.maxAge,
  });
  return (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return next();
    return middleware(c, next);
  };
}
