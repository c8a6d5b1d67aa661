/**
 * The playground at `GET /docs` (the App's `docs` option moves it or turns it off): one HTML page,
 * its script inlined, that reads the App's own `/openapi.json` and drives each route with rally's
 * client (see `page/`). The page holds nothing of the App: what it shows comes from requests that
 * sit behind the App's `auth` like every route. With auth on, a browser that asks for the page
 * without credentials gets a 401 whose body is a small sign-in form (a token, or a key that it
 * trades for a token at `POST /tokens`); `GET /` from a browser, on an App with no GET route
 * there, is redirected to the page.
 *
 * @module
 */
import { PLAYGROUND_SCRIPT } from "./bundle.ts";
import { playgroundHtml, signInHtml } from "./html.ts";

/** The playground's path when the `docs` option is unset or `true`. */
export const DEFAULT_DOCS_PATH = "/docs";

/**
 * Read the App's `docs` option.
 *
 * @param option `false` (off), `true` or unset (`/docs`), or a path.
 * @returns The playground's path, or `undefined` when it is off.
 * @throws {TypeError} for anything else, or a path that does not start with `/`.
 */
export function readDocsPath(option: boolean | string | undefined): string | undefined {
  if (option === undefined || option === true) return DEFAULT_DOCS_PATH;
  if (option === false) return undefined;
  if (typeof option !== "string" || !/^\/[^:*{}?#\s]*$/.test(option) || option === "/") {
    throw new TypeError(
      `docs must be true, false or a fixed path such as "/docs", got ${JSON.stringify(option)}`,
    );
  }
  return option.length > 1 ? option.replace(/\/+$/, "") : option;
}

/**
 * Whether a request comes from a person's browser navigating to a page: a `GET` that accepts
 * `text/html` and is no WebSocket upgrade.
 *
 * @param request The request.
 * @returns Whether to answer it with a page.
 */
export function wantsPage(request: Request): boolean {
  return request.method === "GET" &&
    (request.headers.get("accept") ?? "").includes("text/html") &&
    request.headers.get("upgrade")?.toLowerCase() !== "websocket";
}

/**
 * The playground page.
 *
 * @param path Where it is served (the page finds the App's base URL from it).
 * @returns The HTML response.
 */
export function playgroundPage(path: string): Response {
  return html(200, playgroundHtml(path, PLAYGROUND_SCRIPT));
}

/**
 * The 401 a browser gets for the playground page without credentials: a form that takes a
 * token (opens the page with `?token=`) or a key (trades it for a token at `POST /tokens` first,
 * so that no key ever lands in a URL).
 *
 * @param refused The auth's 401 (its `WWW-Authenticate` header is kept).
 * @param path Where the playground is served.
 * @returns The HTML response, with the same status.
 */
export function signInPage(refused: Response, path: string): Response {
  const response = html(refused.status, signInHtml(path));
  const challenge = refused.headers.get("www-authenticate");
  if (challenge) response.headers.set("www-authenticate", challenge);
  return response;
}

/**
 * The answer to `GET /` on an App with no GET route there: browsers go to the playground, other
 * requests pass on (to the route's 405 or 426, or the 404).
 *
 * @param docs The playground's path.
 * @returns A Hono handler.
 */
export function homeRedirect(
  docs: string,
): (c: { req: { raw: Request } }, next: () => Promise<void>) => Response | Promise<void> {
  return (c, next) => {
    const request = c.req.raw;
    if (!wantsPage(request)) return next();
    const query = new URL(request.url).search;
    return new Response(null, { status: 302, headers: { location: `${docs.slice(1)}${query}` } });
  };
}

function html(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // Everything is inline and same-origin: no CDN, no other site.
      "content-security-policy":
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self' ws: wss:",
    },
  });
}
