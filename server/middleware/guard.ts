/**
 * What stands in front of an App's routes, from its security and operations options: the log
 * and metrics of each request, CORS (HTTP only), the `Origin` check of upgrades, auth, rally's
 * own `POST /tokens` and `GET /metrics`, the `maxSessions` bound and the per-connection rate
 * limit. The checks of a WebSocket upgrade run in PROTOCOL.md's order: `Origin` (403), auth
 * (401), session limit (503), then the upgrade.
 *
 * @module
 */
import type { Context as HonoContext, Hono, MiddlewareHandler, Next } from "hono";
import { type AppOptions, checkNumber } from "../options.ts";
import { Auth } from "./auth.ts";
import { type Context, type Host, requestIdOf, type SessionSocket, urlOf } from "../context.ts";
import { corsMiddleware } from "./cors.ts";
import { fail, methodNotAllowed } from "../response.ts";
import { type Logger, readLog } from "./log.ts";
import { playgroundPage, readDocsPath, signInPage, wantsPage } from "../docs/playground.ts";
import { Metrics } from "./metrics.ts";
import { checkOrigin, readOrigins } from "./origin.ts";
import { checkRateLimit, type RateLimit } from "./rate_limit.ts";
import { type SessionKind, SessionStats } from "./stats.ts";

/** The App options the guard reads. */
export type GuardOptions =
  & Required<Pick<AppOptions, "name">>
  & Pick<
    AppOptions,
    "auth" | "allowedOrigins" | "cors" | "maxSessions" | "rateLimit" | "log" | "metrics" | "docs"
  >;

/** The guard of one App run: see the module doc. */
export class Guard {
  /** Open sessions (realtime and raw) allowed at once. */
  readonly maxSessions: number;
  /** The per-connection rate limit of realtime sessions, if any. */
  readonly rateLimit: RateLimit | undefined;
  /** The playground's path, when it is on. */
  readonly docs: string | undefined;
  #auth: Auth | undefined;
  #origins: Set<string> | undefined;
  #cors: MiddlewareHandler | undefined;
  #log: Logger | undefined;
  #metrics: Metrics | undefined;

  /**
   * Read and check the options.
   *
   * @param options The App (its options as properties).
   * @param paths The paths of its routes, which must not take rally's own.
   * @throws {TypeError} for auth without a secret, a route at `/tokens` or `/metrics` where
   * rally serves them, or a malformed option.
   * @throws {RangeError} for a number out of range.
   */
  constructor(options: GuardOptions, paths: Iterable<string>) {
    const { maxSessions } = options;
    checkNumber("start the App", "maxSessions", maxSessions, { min: 1, integer: true });
    this.maxSessions = maxSessions ?? Infinity;
    this.rateLimit = checkRateLimit(options.rateLimit);
    this.#auth = options.auth ? new Auth(options.auth, options.name) : undefined;
    this.#origins = readOrigins(options.allowedOrigins);
    this.#cors = corsMiddleware(options.cors);
    this.#log = readLog(options.log, options.name);
    this.#metrics = options.metrics ? new Metrics(options.name) : undefined;
    this.docs = readDocsPath(options.docs);
    this.checkPaths(paths);
  }

  /**
   * Write what a handler threw to the log, when logs are on.
   *
   * @param error What it threw.
   * @param ctx The request's or session's context.
   * @returns Whether it was logged.
   */
  logError(error: unknown, ctx: Context): boolean {
    if (!this.#log) return false;
    this.#log.handlerFailed(ctx.requestId, new URL(urlOf(ctx)).pathname, error);
    return true;
  }

  /**
   * Refuse routes at the paths rally serves itself: `/tokens` with auth, `/metrics` with
   * metrics.
   *
   * @param paths The routes' paths.
   * @throws {TypeError} on a clash.
   */
  checkPaths(paths: Iterable<string>): void {
    for (const path of paths) {
      if (path === "/tokens" && this.#auth) {
        throw new TypeError("/tokens is rally's own route when auth is on: move that route");
      }
      if (path === "/metrics" && this.#metrics) {
        throw new TypeError("/metrics is rally's own route with metrics: true: move that route");
      }
      if (path === this.docs) {
        throw new TypeError(
          `${path} is the playground's path: move that route, or the playground (docs: "/other") or turn it off (docs: false)`,
        );
      }
    }
  }

  /**
   * Put the middlewares and rally's own routes on a router, before the App's routes.
   *
   * @param router The router, with no route yet.
   * @param host The App serving it.
   * @returns Whether a check (CORS, `Origin`, auth) was put on it: logs and metrics alone leave
   *   an endpoint's POST free to skip Hono (see {@link Guard.observed}).
   */
  install(router: Hono, host: Host): boolean {
    const observe = Boolean(this.#log || this.#metrics);
    const check = Boolean(this.#origins || this.#auth);
    if (observe) router.use("*", (c, next) => this.#observe(c, next));
    if (this.#cors) router.use("*", this.#cors);
    if (check) router.use("*", (c, next) => this.#check(c, next));
    const auth = this.#auth;
    if (auth) {
      router.post("/tokens", (c) => auth.tokens(c.req.raw, host));
      router.all("/tokens", methodNotAllowed("POST"));
    }
    const metrics = this.#metrics;
    if (metrics) {
      router.get("/metrics", () => metrics.respond());
      router.all("/metrics", methodNotAllowed("GET"));
    }
    const docs = this.docs;
    if (docs) {
      router.get(docs, () => playgroundPage(docs));
      router.all(docs, methodNotAllowed("GET"));
    }
    return check || this.#cors !== undefined;
  }

  /**
   * An endpoint's answer with its request logged and measured, for requests that skip Hono's
   * middlewares (answered the same way as through them).
   *
   * @param answer Answers a request.
   * @returns `answer` as it is when logs and metrics are off, else `answer` observed.
   */
  observed(
    answer: (request: Request) => Promise<Response>,
  ): (request: Request) => Promise<Response> {
    const log = this.#log;
    const metrics = this.#metrics;
    if (!log && !metrics) return answer;
    return async (request) => {
      const started = performance.now();
      let status = 500;
      try {
        const response = await answer(request);
        status = response.status;
        return response;
      } finally {
        const ms = performance.now() - started;
        metrics?.request(status, ms / 1000);
        log?.request(request, requestIdOf(request), status, ms);
      }
    };
  }

  /**
   * Start counting a session; with logs or metrics on, it is logged and measured at its open
   * and at its socket's close.
   *
   * @param kind The endpoint's kind.
   * @param ctx The session's context.
   * @param socket Its socket.
   * @returns The numbers the session keeps.
   */
  sessionStats(kind: SessionKind, ctx: Context, socket: SessionSocket): SessionStats {
    const metrics = this.#metrics;
    const log = this.#log;
    const url = new URL(urlOf(ctx));
    const stats = new SessionStats(
      kind,
      url.pathname,
      ctx.requestId,
      kind === "realtime" ? metrics?.handlerLatency : undefined,
    );
    if (!log && !metrics) return stats;
    stats.timed = true;
    metrics?.sessionOpened(stats);
    log?.sessionOpen(stats, url.search);
    const onClose = (event: CloseEvent) => {
      socket.removeEventListener("close", onClose); // Deno may fire close twice
      stats.closeCode = event.code || 1006;
      metrics?.sessionClosed(stats);
      log?.sessionClose(stats);
    };
    socket.addEventListener("close", onClose);
    return stats;
  }

  /**
   * The `maxSessions` check, right before an upgrade.
   *
   * @param open Sessions open now.
   * @returns Nothing when one more may open, else the 503 to answer.
   */
  admitSession(open: number): Response | undefined {
    if (open < this.maxSessions) return undefined;
    return fail(503, "Too many open sessions: try again later", { "retry-after": "1" });
  }

  async #observe(c: HonoContext, next: Next): Promise<void> {
    const started = performance.now();
    const request = c.req.raw;
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
      requestIdOf(request); // fixed now, while the headers can still be read
    }
    await next();
    const status = c.res.status;
    if (status === 101) return; // sessions log their own open and close
    const ms = performance.now() - started;
    this.#metrics?.request(status, ms / 1000);
    this.#log?.request(request, requestIdOf(request), status, ms);
  }

  async #check(c: HonoContext, next: Next): Promise<Response | void> {
    const request = c.req.raw;
    if (this.#origins && c.req.header("upgrade")?.toLowerCase() === "websocket") {
      const refused = checkOrigin(request, this.#origins);
      if (refused) return refused;
    }
    // `/health` stays open for probes; `/tokens` checks its own key.
    if (this.#auth && c.req.path !== "/health" && c.req.path !== "/tokens") {
      const refused = await this.#auth.check(request);
      if (refused && c.req.path === this.docs && wantsPage(request)) {
        return signInPage(refused, this.docs);
      }
      if (refused) return refused;
    }
    await next();
  }
}
