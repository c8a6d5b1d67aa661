/**
 * `fetchToken()`: mint a short-lived token at a rally server's `POST /tokens` with an API key,
 * for a browser that cannot hold the key (it passes the token as `token` to `realtime()` or
 * from `tokenProvider` to `connect()`). Run it on your backend. Browser-safe all the same.
 *
 * @module
 */
import { httpError } from "./http.ts";
import { clientFetch } from "./memory.ts";
import { endpointUrl } from "./socket.ts";

/**
 * Options of {@link fetchToken}.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { fetchToken, type FetchTokenOptions } from "@rally/rally/client";
 * import { HttpError } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const app = new App({ name: "my-app", auth: { keys: ["k3y"], secret: "a secret of 32 bytes or more....." } });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const options: FetchTokenOptions = { key: "k3y", app: "another-app" };
 * await assert.rejects(fetchToken(url, options), (error) => error instanceof HttpError && error.status === 403);
 * ```
 */
export interface FetchTokenOptions {
  /** The API key, sent as `Authorization: Key <key>`. */
  key: string;
  /** The App's name: the token is good for that App only (fal's `allowed_apps`). */
  app: string;
  /** The token's lifetime in seconds (the server caps it at 24 h). Default: the server's, 120. */
  expiration?: number;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Mint a token for an App at its server's `POST /tokens` (fal's body:
 * `{"allowed_apps":[app],"token_expiration":seconds}`).
 *
 * @param url The server's base URL.
 * @param options The key, the App's name, the lifetime.
 * @returns The token (a JWT).
 * @throws {HttpError} when the server refuses (401: bad key; 403: another App's name).
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { fetchToken, realtime } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App({ name: "my-app", auth: { keys: ["k3y"], secret: "a secret of 32 bytes or more....." } })
 *   .realtime("/realtime", {}, (input) => input);
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * // On a backend that holds the key:
 * const token = await fetchToken(url, { key: "k3y", app: "my-app", expiration: 300 });
 * // In the browser, the token goes in the query (browsers cannot set headers on a socket):
 * await using conn = await realtime(url, { token });
 * conn.send({ n: 1 });
 * assert.deepEqual(await conn.receive(), { n: 1 });
 * ```
 */
export async function fetchToken(url: string | URL, options: FetchTokenOptions): Promise<string> {
  const response = await clientFetch(endpointUrl(url, "/tokens", false), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...options.headers,
      authorization: `Key ${options.key}`,
    },
    body: JSON.stringify({
      allowed_apps: [options.app],
      ...(options.expiration === undefined ? {} : { token_expiration: options.expiration }),
    }),
    signal: options.signal,
  });
  if (!response.ok) throw await httpError(response);
  return await response.json();
}
