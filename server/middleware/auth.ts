/**
 * Auth for every route but `/health`: API keys (`Authorization: Key <key>` or `Bearer <key>`,
 * compared in constant time), short-lived JWTs for browsers (minted by `POST /tokens` with a
 * key, fal's body; accepted as `Bearer <token>` or as the `fal_jwt_token` / `token` query
 * parameter, since browsers cannot set headers on a WebSocket), and an optional `verify`
 * callback for other schemes. Tokens are HS256 JWTs signed and verified by `hono/jwt` with the
 * App's secret (`auth.secret` or `RALLY_SECRET`), scoped to the App's name (`aud`) and expiring
 * (`exp`). A session whose token expires keeps running (fal's rule): tokens are checked when a
 * connection opens.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { sign, verify } from "hono/jwt";
import { JwtPayloadRequiresAud, JwtTokenAudience, JwtTokenExpired } from "hono/utils/jwt/types";
import type { Host } from "../context.ts";
import { readValidInput } from "../http.ts";
import { fail } from "../response.ts";

/**
 * The `auth` option of an App. Setting it turns auth on for every route but `/health` (and
 * CORS preflights): requests without valid credentials get 401 before anything else happens
 * (WebSocket upgrades included, before the upgrade).
 *
 * @example
 * ```ts
 * import { App, type AuthOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // The secret signs the tokens POST /tokens mints; RALLY_SECRET works too.
 * const auth: AuthOptions = { keys: ["k3y"], secret: "a secret of 32 bytes or more....." };
 * const app = new App({ name: "my-app", auth }).endpoint("/", {}, () => ({ ok: true }));
 * const call = (headers: HeadersInit) =>
 *   app.fetch(new Request("http://localhost/", { method: "POST", headers }));
 * assert.equal((await call({})).status, 401);
 * assert.equal((await call({ authorization: "Key k3y" })).status, 200);
 * ```
 */
export interface AuthOptions {
  /** API keys accepted as `Authorization: Key <key>` or `Bearer <key>` (never in the query). */
  keys?: readonly string[];
  /**
   * The secret that signs and verifies tokens (HS256, at least 32 bytes). Default: the
   * `RALLY_SECRET` environment variable. Required: auth without a secret is an error when the
   * App starts.
   */
  secret?: string;
  /**
   * Accept a request that no key or token let in (another scheme: a cookie, a signed header).
   * It also lets a request mint tokens at `POST /tokens`. Its exceptions answer 500.
   */
  verify?: (request: Request) => boolean | Promise<boolean>;
}

/** Token lifetime when `POST /tokens` asks for none: 120 s (fal's). */
export const DEFAULT_TOKEN_EXPIRATION: number = 120;
/** Longest token lifetime `POST /tokens` grants: 24 h (longer asks are cut to it). */
export const MAX_TOKEN_EXPIRATION: number = 86_400;

const ALGORITHM = "HS256";
const ISSUER = "rally";
const MIN_SECRET_BYTES = 32;
/** Largest body `POST /tokens` reads. */
const MAX_TOKENS_BODY = 64 * 1024;
const CHALLENGE = { "www-authenticate": 'Bearer realm="rally"' };

/** The verdict on a request's credentials: `true`, or why not. */
type Verdict = true | string;

/** The auth of one App run. */
export class Auth {
  #app: string;
  #keys: Uint8Array[];
  #secret: string;
  #verify?: (request: Request) => boolean | Promise<boolean>;

  /**
   * Check the option and make the App's auth.
   *
   * @param options The `auth` option.
   * @param app The App's name: tokens are scoped to it.
   * @throws {TypeError} without a secret, or for a key that is not a non-empty string.
   * @throws {RangeError} for a secret under 32 bytes.
   */
  constructor(options: AuthOptions, app: string) {
    const secret = options.secret ?? envSecret();
    if (!secret) {
      throw new TypeError(
        "Cannot start the App: auth is on but has no secret to sign tokens with: set auth.secret or RALLY_SECRET",
      );
    }
    const secretBytes = new TextEncoder().encode(secret).length;
    if (secretBytes < MIN_SECRET_BYTES) {
      throw new RangeError(
        `Cannot start the App: the auth secret must be at least ${MIN_SECRET_BYTES} bytes long, received ${secretBytes} bytes`,
      );
    }
    const keys = options.keys ?? [];
    if (!Array.isArray(keys)) throw new TypeError("auth.keys must be an array of strings");
    keys.forEach((key, i) => {
      if (typeof key !== "string" || key === "") {
        throw new TypeError(`auth.keys[${i}] must be a non-empty string, got ${typeof key}`);
      }
    });
    if (options.verify !== undefined && typeof options.verify !== "function") {
      throw new TypeError("auth.verify must be a function");
    }
    this.#app = app;
    this.#keys = keys.map(digest);
    this.#secret = secret;
    this.#verify = options.verify;
  }

  /**
   * Check a request's credentials: a key or a token in the `Authorization` header, else a token
   * in the query, else `verify`.
   *
   * @param request The request.
   * @returns Nothing when it may pass, else the 401 to answer.
   */
  async check(request: Request): Promise<Response | undefined> {
    const verdict = await this.#credentials(request, true);
    if (verdict === true || await this.#verify?.(request)) return undefined;
    return fail(401, verdict, CHALLENGE);
  }

  /**
   * Answer `POST /tokens`: with a key (or `verify`), fal's body
   * `{"allowed_apps": [<app name>], "token_expiration": <seconds>}` gets a token for this App as
   * a JSON string.
   *
   * @param request The request.
   * @param host The App serving it (for the body's codec).
   * @returns 200 with the token; 401 without a key; 403 when `allowed_apps` lacks this App;
   * 413, 415 or 422 for a bad body.
   */
  async tokens(request: Request, host: Host): Promise<Response> {
    const verdict = await this.#credentials(request, false);
    if (verdict !== true && !await this.#verify?.(request)) {
      return fail(401, verdict === MISSING ? "Minting a token needs a key" : verdict, CHALLENGE);
    }
    const input = await readValidInput({ maxMessageBytes: MAX_TOKENS_BODY }, request, host);
    if (input instanceof Response) return input;
    const body = input.value ?? {};
    if (typeof body !== "object" || Array.isArray(body)) {
      return invalid([], "Input should be an object with allowed_apps", "dict_type");
    }
    const { allowed_apps: apps, token_expiration: expiration = DEFAULT_TOKEN_EXPIRATION } =
      body as Record<string, unknown>;
    if (!Array.isArray(apps) || !apps.every((app) => typeof app === "string")) {
      return invalid(["allowed_apps"], "Input should be a list of app names", "list_type");
    }
    if (!(typeof expiration === "number" && Number.isInteger(expiration) && expiration >= 1)) {
      return invalid(
        ["token_expiration"],
        "Input should be a whole number of seconds, at least 1",
        "int_type",
      );
    }
    if (!apps.includes(this.#app)) {
      return fail(403, `allowed_apps must include this app: ${JSON.stringify(this.#app)}`);
    }
    return Response.json(await this.issue(Math.min(expiration, MAX_TOKEN_EXPIRATION)));
  }

  /**
   * Mint a token for this App.
   *
   * @param seconds Its lifetime.
   * @returns The JWT.
   */
  issue(seconds: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return sign(
      { iss: ISSUER, aud: this.#app, iat: now, exp: now + seconds },
      this.#secret,
      ALGORITHM,
    );
  }

  async #credentials(request: Request, tokens: boolean): Promise<Verdict> {
    const header = request.headers.get("authorization");
    if (header !== null) {
      const space = header.indexOf(" ");
      const scheme = header.slice(0, space).toLowerCase();
      const value = header.slice(space + 1).trim();
      if (space === -1 || (scheme !== "key" && scheme !== "bearer")) {
        return "Unsupported authorization scheme: send Key <key> or Bearer <token>";
      }
      if (this.#isKey(value)) return true;
      if (scheme === "key" || !tokens) return "Invalid key";
      return await this.#token(value);
    }
    if (!tokens) return MISSING;
    const query = new URL(request.url).searchParams;
    const token = query.get("fal_jwt_token") ?? query.get("token");
    return token === null ? MISSING : await this.#token(token);
  }

  /** Whether `value` is one of the keys, in time that does not depend on where they differ. */
  #isKey(value: string): boolean {
    const presented = digest(value);
    let found = false;
    // Every key is compared, so the time does not tell which one matched either.
    for (const key of this.#keys) found = timingSafeEqual(presented, key) || found;
    return found;
  }

  async #token(token: string): Promise<Verdict> {
    try {
      await verify(token, this.#secret, {
        alg: ALGORITHM,
        iss: ISSUER,
        aud: this.#app,
        iat: false, // hosts' clocks differ by a little; `exp` is what counts
      });
      return true;
    } catch (error) {
      if (error instanceof JwtTokenExpired) return "Token has expired";
      if (error instanceof JwtTokenAudience || error instanceof JwtPayloadRequiresAud) {
        return "Token is not for this app";
      }
      return "Invalid token";
    }
  }
}

const MISSING =
  "Not authenticated: send Authorization: Key <key> or Bearer <token>, or fal_jwt_token=<token> in the query";

/** SHA-256 of a key: compared digests have one length, so the comparison time says nothing. */
function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

function invalid(loc: string[], msg: string, type: string): Response {
  return fail(422, [{ loc: ["body", ...loc], msg, type }]);
}

function envSecret(): string | undefined {
  try {
    return Deno.env.get("RALLY_SECRET");
  } catch {
    return undefined; // no --allow-env
  }
}
