/**
 * One run of an App, from `setup()` to `teardown()`: its options read and checked, its router,
 * its open sessions and requests in flight, and its state: `idle` → `starting` (setup runs;
 * `/health` answers 503, routes wait) → `ready` → `draining` (new requests get 503) →
 * `stopped`; or `failed` when setup threw. `serve()` starts a new run when the last one ended,
 * so an App can be served again after a shutdown.
 *
 * @module
 */
import type { Hono } from "hono";
import { Codec } from "../codec.ts";
import { VERSION } from "../protocol.ts";
import { within } from "../internal/within.ts";
import type { App } from "./app.ts";
import type { Context, Host, Session } from "./context.ts";
import { Guard } from "./middleware/guard.ts";
import { flushLogs } from "./middleware/log_writer.ts";
import { fail } from "./response.ts";
import { Limiter } from "./limiter.ts";
import { StallClock } from "./stall_clock.ts";
import { readSettings, type Settings } from "./options.ts";
import { buildRouter, type Gate, type Router } from "./router.ts";
import type { Route } from "./routes.ts";

type State = "idle" | "starting" | "ready" | "failed" | "draining" | "stopped";

/** One run of an App: see the module doc. */
export class Runner implements Gate {
  /** What routes need from their App. */
  readonly host: Host;
  /** The App's numeric options, read when this run began. */
  readonly settings: Settings;
  #app: App;
  #routes: readonly Route[];
  #router?: Router;
  #state: State = "idle";
  #started?: Promise<void>;
  #setUp = false;
  #stopped?: Promise<void>;
  #stallClock!: StallClock;
  #closing = new AbortController();
  #sessions = new Set<Session>();
  #limiter: Limiter;
  #guard: Guard;
  #lastActivity = performance.now();

  /**
   * Read the App's options and make a run that has not started.
   *
   * @param app The App.
   * @param routes Its route table (read again after {@link Runner.routesChanged}).
   * @throws {RangeError} for an option out of range.
   * @throws {TypeError} for a malformed security option (auth without a secret, ...).
   */
  constructor(app: App, routes: readonly Route[]) {
    this.settings = readSettings(app);
    const guard = this.#guard = new Guard(app, routes.map((route) => route.path));
    this.#app = app;
    this.#routes = routes;
    this.#limiter = new Limiter(this.settings.maxConcurrency, this.settings.maxQueue);
    const sessions = this.#sessions;
    this.host = {
      codec: new Codec(),
      closing: this.#closing.signal,
      reportError: (error, ctx) => app.onError(error, ctx),
      rateLimit: guard.rateLimit,
      sessionStats: (kind, ctx, socket) => guard.sessionStats(kind, ctx, socket),
      firstMessageTimeout: this.settings.firstMessageTimeout,
      bodyTimeout: this.settings.bodyTimeout,
      stallClock: this.#stallClock = new StallClock(this.settings.bodyTimeout),
      track: (session) => {
        sessions.add(session);
        this.#touch();
        return () => {
          sessions.delete(session);
          this.#touch();
        };
      },
    };
  }

  /**
   * Write what a handler threw to the App's log, when logs are on (the default `onError`).
   *
   * @param error What it threw.
   * @param ctx The request's or session's context.
   * @returns Whether it was logged.
   */
  logError(error: unknown, ctx: Context): boolean {
    return this.#guard.logError(error, ctx);
  }

  /** The App's `maxMessageBytes`, for routes that set none. */
  get maxMessageBytes(): number {
    return this.settings.maxMessageBytes;
  }

  /** The playground's path, when it is on. */
  get docs(): string | undefined {
    return this.#guard.docs;
  }

  /** Open WebSocket sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** HTTP and SSE requests holding a `maxConcurrency` slot or waiting for one. */
  get requestCount(): number {
    return this.#limiter.size;
  }

  /** Whether this run is over (failed, draining or stopped): a new `serve()` needs a new one. */
  get ended(): boolean {
    return this.#state === "failed" || this.#state === "draining" || this.#state === "stopped";
  }

  /**
   * Give up on stalled body reads with one clock for the whole run instead of a timer per
   * read: only under `serve()`, whose shutdown drains the run and so stops the clock.
   */
  watchStalls(): void {
    this.#stallClock.start();
  }

  /**
   * Run the App's `setup()` once; a synchronous one makes the App ready at once.
   *
   * @returns When the App is ready; rejects with setup's error.
   */
  start(): Promise<void> {
    if (this.#state !== "idle") return this.#started ?? Promise.resolve();
    this.#state = "starting";
    try {
      const result = this.#app.setup();
      this.#started = result instanceof Promise
        ? result.then(() => this.#ready(), (error) => this.#fail(error))
        : Promise.resolve(this.#ready());
    } catch (error) {
      this.#started = this.#fail(error);
    }
    this.#started.catch(() => {}); // requests see a failure as 503; serve() awaits it
    return this.#started;
  }

  /**
   * Serve one request; the first one starts the run.
   *
   * @param request The request.
   * @returns The response.
   */
  fetch(request: Request): Response | Promise<Response> {
    if (this.#state === "idle") this.start();
    if (this.#state === "draining" || this.#state === "stopped") {
      return fail(503, "Server is shutting down");
    }
    this.#router ??= buildRouter(this.#routes, this);
    return this.#router.fetch(request);
  }

  /**
   * Put the App's middlewares and rally's own routes (`/tokens`, `/metrics`) on a new router,
   * before its routes.
   *
   * @param router The router.
   * @returns Whether a check (CORS, `Origin`, auth) was put on it.
   */
  guard(router: Hono): boolean {
    this.#guard.checkPaths(this.#routes.map((route) => route.path));
    return this.#guard.install(router, this.host);
  }

  /**
   * An endpoint's answer for requests that skip the router, logged and measured as through it.
   *
   * @param answer Answers a request.
   * @returns The answer, observed when logs or metrics are on.
   */
  observed(
    answer: (request: Request) => Promise<Response>,
  ): (request: Request) => Promise<Response> {
    return this.#guard.observed(answer);
  }

  /**
   * Wait until the App is set up, then check `maxSessions`: what a WebSocket upgrade passes
   * last, after its `Origin` and auth.
   *
   * @returns Nothing when the session may open, else the 503 to answer.
   */
  admitSession(): Response | undefined | Promise<Response | undefined> {
    const refused = this.admit();
    if (refused === undefined) return this.#guard.admitSession(this.#sessions.size);
    return Promise.resolve(refused).then((response) =>
      response ?? this.#guard.admitSession(this.#sessions.size)
    );
  }

  /** Build the router again before the next request (a route was added). */
  routesChanged(): void {
    this.#router = undefined;
  }

  /**
   * The answer to `GET /health`.
   *
   * @returns 200 with the version once set up, else 503.
   */
  health(): Response {
    if (this.#state === "ready") return Response.json({ status: "ok", version: VERSION });
    return fail(503, this.#state === "failed" ? "App setup failed" : "App is starting");
  }

  /**
   * The App's OpenAPI document.
   *
   * @returns The document.
   */
  openapi(): unknown {
    return this.#app.openapi();
  }

  /**
   * Wait until the App is set up.
   *
   * @returns Nothing when it can take work, else the 503 to answer.
   */
  admit(): Response | undefined | Promise<Response | undefined> {
    switch (this.#state) {
      case "ready":
        this.#touch();
        return undefined;
      case "starting":
        return this.#started!.then(() => this.admit(), () => this.admit());
      case "failed":
        return fail(503, "App setup failed");
      default:
        return fail(503, "Server is shutting down");
    }
  }

  /**
   * Run an HTTP or SSE request once admitted and given a `maxConcurrency` slot.
   *
   * @param run Answers the request; calls `done` once its work is over, also when it fails.
   * @returns Its response, or a 503.
   */
  work(run: (done: () => void) => Promise<Response>): Promise<Response> {
    // When ready with a slot free, the request runs at once: no promise of the gate's own stands
    // between the router and the handler (each one measured as CPU time per request).
    if (this.#state === "ready" && this.#limiter.tryAcquire()) return this.#hold(run);
    return this.#wait(run);
  }

  async #wait(run: (done: () => void) => Promise<Response>): Promise<Response> {
    const refused = await this.admit();
    if (refused) return refused;
    const slot = this.#limiter.acquire();
    if (!(slot === true || await slot)) {
      return fail(503, "Server is busy: try again later", { "retry-after": "1" });
    }
    return this.#hold(run);
  }

  /** Run with a slot held; `done` gives it back once. */
  #hold(run: (done: () => void) => Promise<Response>): Promise<Response> {
    let held = true;
    const done = () => {
      if (!held) return;
      held = false;
      this.#limiter.release();
      this.#touch();
    };
    if (this.#closing.signal.aborted) {
      done();
      return Promise.resolve(fail(503, "Server is shutting down"));
    }
    try {
      return run(done);
    } catch (error) {
      done();
      return Promise.reject(error);
    }
  }

  /**
   * How long the App has had no work: no request in flight, no open session.
   *
   * @returns Milliseconds since the last work ended; 0 while there is work or before setup.
   */
  idleMs(): number {
    if (this.#state !== "ready" || this.#limiter.size > 0 || this.#sessions.size > 0) return 0;
    return performance.now() - this.#lastActivity;
  }

  /**
   * Stop taking work and drain: new requests get 503; open sessions and requests in flight get
   * `graceMs` to finish; then `ctx.signal` aborts for the rest; once they are over, `teardown()`
   * runs (when setup did).
   *
   * @param graceMs How long work in hand may take.
   * @returns When the run has stopped; rejects with teardown's error.
   */
  drain(graceMs: number): Promise<void> {
    this.#stopped ??= this.#drain(graceMs);
    return this.#stopped;
  }

  #ready(): void {
    this.#setUp = true;
    if (this.#state === "starting") {
      this.#state = "ready";
      this.#touch();
    }
  }

  #fail(error: unknown): Promise<never> {
    if (this.#state === "starting") this.#state = "failed";
    console.error(`rally: setup of ${this.#app.name} failed:`, error);
    return Promise.reject(error);
  }

  async #drain(graceMs: number): Promise<void> {
    this.#state = "draining";
    try {
      await Promise.all([
        ...[...this.#sessions].map((session) => session.shutdown(graceMs)),
        within(this.#limiter.idle(), graceMs),
      ]);
      this.#closing.abort();
      await this.#limiter.idle();
      await this.#started?.catch(() => {});
      flushLogs(); // the drained work's log lines come before what teardown() prints
      if (this.#setUp) await this.#app.teardown();
    } finally {
      this.#stallClock.stop();
      this.#state = "stopped";
    }
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }
}
