// The key or token the page uses: from the `token` / `fal_jwt_token` query parameter of its own
// URL, or typed into its field. HTTP requests send it in `Authorization`; sockets take a token
// in the query (browsers cannot set headers there), so a key is traded for one at POST /tokens.
import { fetchToken } from "../../../client/token.ts";

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** Lifetime of the tokens the page mints for its sockets, in seconds. */
const MINTED_SECONDS = 600;

/**
 * The page's credentials.
 *
 * @param {string} initial A token from the page's URL, or "".
 */
export class Credentials {
  #value;
  /** @type {{ token: string, until: number } | undefined} */
  #minted;

  constructor(initial) {
    this.#value = initial;
  }

  /** @returns {string} The key or token, or "". */
  get value() {
    return this.#value;
  }

  /** @param {string} value A key, a token, or "". */
  set value(value) {
    this.#value = value.trim();
    this.#minted = undefined;
  }

  /** @returns {{ token?: string, key?: string }} Options for `run()` and `stream()`. */
  http() {
    if (!this.#value) return {};
    return JWT.test(this.#value) ? { token: this.#value } : { key: this.#value };
  }

  /** @returns {Record<string, string>} Headers for a plain `fetch`. */
  headers() {
    const { token, key } = this.http();
    return token
      ? { authorization: `Bearer ${token}` }
      : key
      ? { authorization: `Key ${key}` }
      : {};
  }

  /**
   * A token for a socket's query: the token itself, or one minted with the key.
   *
   * @param {string} base The App's base URL.
   * @param {string} app The App's name (tokens are scoped to it).
   * @returns {Promise<string | undefined>} The token, or undefined without credentials.
   */
  async socketToken(base, app) {
    const { token, key } = this.http();
    if (token || !key) return token;
    if (this.#minted && this.#minted.until > Date.now()) return this.#minted.token;
    const minted = await fetchToken(base, { key, app, expiration: MINTED_SECONDS });
    this.#minted = { token: minted, until: Date.now() + (MINTED_SECONDS - 30) * 1000 };
    return minted;
  }
}
