/**
 * Plain GET routes (`app.get(path, handler)`): the handler gets the request and answers any
 * `Response`, so that an App can serve its own front end (a page, a script, a bundle). `HEAD`
 * is answered from the same handler without the body (Hono's rule). They pass the App's guard
 * like every other route (CORS, auth) and count as HTTP requests (setup, `maxConcurrency`,
 * drain, `keepAlive`); the OpenAPI document leaves them out.
 *
 * @module
 */
import { type Context, createContext, type Host } from "./context.ts";
import { handlerFailed } from "./response.ts";
import type { GetRoute } from "./routes.ts";

/**
 * A GET route's handler: the request in, any response out.
 *
 * @example
 * ```ts
 * import { App, type GetHandler } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const page: GetHandler = () =>
 *   new Response("<h1>Hello</h1>", { headers: { "content-type": "text/html; charset=utf-8" } });
 * const app = new App().get("/", page);
 * const response = await app.fetch(new Request("http://localhost/"));
 * assert.equal(await response.text(), "<h1>Hello</h1>");
 * ```
 */
export type GetHandler = (request: Request, ctx: Context) => Response | Promise<Response>;

/**
 * Answer one GET (or HEAD) request.
 *
 * @param route The route.
 * @param request The request.
 * @param host The App serving it.
 * @returns The handler's response; 500 when it throws or answers something else (the error goes
 * to the App's `onError`).
 */
export async function handleGet(route: GetRoute, request: Request, host: Host): Promise<Response> {
  const ctx = createContext(request, () => AbortSignal.any([request.signal, host.closing]));
  try {
    const response = await route.handler(request, ctx);
    if (response instanceof Response) return response;
    throw new TypeError(`A GET handler must answer a Response, got ${typeof response}`);
  } catch (error) {
    return handlerFailed(error, (error) => host.reportError(error, ctx));
  }
}
