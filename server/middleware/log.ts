/**
 * Structured logs: one JSON record per HTTP request and per WebSocket session open and close,
 * with the request id, the path (credentials in the query redacted), the status or close code,
 * durations, message counts, drops and error frames. Off unless asked for: the App's `log`
 * option, else the `RALLY_LOG` environment variable (which `rally serve` sets to `info` when it
 * is unset). The default sink buffers the lines and writes them together at least every 100 ms
 * (see `log_writer.ts`): nothing is lost at a graceful stop or on exit.
 *
 * @module
 */
import { type LineWriter, stdoutWriter } from "./log_writer.ts";
import type { SessionStats } from "./stats.ts";

/**
 * How much to log: `info` logs every request and session; `warn` only 4xx, 5xx and sessions
 * closed with 1008 or 1011; `error` only 5xx and 1011. `debug` logs what `info` does (rally writes
 * no debug records of its own yet).
 * @example
 * ```ts
 * import { App, type LogLevel, type LogRecord } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * const level: LogLevel = "warn"; // 4xx and 5xx only
 * const app = new App({ log: { level, sink: (record) => records.push(record) } })
 *   .endpoint("/", {}, () => ({ ok: true }));
 * await app.fetch(new Request("http://localhost/", { method: "POST" }));
 * await app.fetch(new Request("http://localhost/missing", { method: "POST" }));
 * assert.deepEqual(records.map((record) => record.status), [404]);
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * The `log` option of an App.
 *
 * @example
 * ```ts
 * import { App, type LogOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log: LogOptions = { level: "info", sink: (record) => lines.push(JSON.stringify(record)) };
 * const app = new App({ name: "logged", log }).endpoint("/", {}, () => ({ ok: true }));
 * await app.fetch(new Request("http://localhost/", { method: "POST" }));
 * assert.equal(lines.length, 1);
 * assert.equal(JSON.parse(lines[0]).msg, "request");
 * ```
 */
export interface LogOptions {
  /** The lowest level logged, or `"off"`. Default `"info"`. */
  level?: LogLevel | "off";
  /**
   * Where records go. Default: one JSON line each on stdout, buffered and written together at
   * least every 100 ms (and at a graceful stop, and on exit). A sink is called once per record,
   * synchronously; one that throws loses the record, never the request.
   */
  sink?: (record: LogRecord) => void;
}

/**
 * One log record: an HTTP request (`msg: "request"`) or a session's open or close
 * (`msg: "session open"`, `msg: "session close"`).
 * @example
 * ```ts
 * import { App, type LogRecord } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * let record: LogRecord | undefined;
 * const app = new App({ name: "logged", log: { sink: (r) => record = r } })
 *   .endpoint("/", {}, () => ({ ok: true }));
 * await app.fetch(new Request("http://localhost/?fal_jwt_token=secret", { method: "POST" }));
 * assert.equal(record?.app, "logged");
 * assert.equal(record?.status, 200);
 * assert.equal(record?.query, "?fal_jwt_token=[REDACTED]"); // credentials never reach the logs
 * ```
 */
export interface LogRecord {
  /** When, as an ISO 8601 string. */
  time: string;
  /** `info`, or `warn` for 4xx and close 1008, `error` for 5xx and close 1011. */
  level: LogLevel;
  /** What happened. */
  msg: "request" | "session open" | "session close" | "handler failed";
  /** The App's name. */
  app: string;
  /** The request's `x-request-id`, or the UUID rally gave it (the handlers' `ctx.requestId`). */
  requestId: string;
  /** The HTTP method (requests). */
  method?: string;
  /** The URL path. */
  path: string;
  /** The query string, with credentials (`fal_jwt_token`, `token`, `key`, ...) redacted. */
  query?: string;
  /** The HTTP status (requests). */
  status?: number;
  /** The endpoint's kind (sessions). */
  kind?: "realtime" | "websocket";
  /** The close code (session close). */
  code?: number;
  /** Time to the response's headers (requests) or the session's lifetime, in ms. */
  durationMs?: number;
  /** Messages received (session close). */
  messagesIn?: number;
  /** Messages sent (session close). */
  messagesOut?: number;
  /** Inputs dropped by buffering (session close). */
  dropped?: number;
  /** Inputs refused by the rate limit (session close). */
  rateLimited?: number;
  /** Error frames sent, by code (session close, when there were any). */
  errors?: Record<string, number>;
  /** Handler calls timed: realtime outputs (session close). */
  handlerCalls?: number;
  /** Total handler time, in ms (session close). */
  handlerMs?: number;
  /** What a handler threw, with its stack (handler failed). */
  error?: LoggedError;
}

/**
 * An error as a log record holds it: one JSON value, its stack inside.
 *
 * @example
 * ```ts
 * import { App, type LoggedError, type LogRecord } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * const app = new App({ log: { sink: (record) => records.push(record) } })
 *   .endpoint("/", {}, () => {
 *     throw new TypeError("bad input");
 *   });
 * await app.fetch(new Request("http://localhost/", { method: "POST" }));
 * const error: LoggedError | undefined = records.find((record) => record.error)?.error;
 * assert.equal(error?.name, "TypeError");
 * assert.equal(error?.message, "bad input");
 * ```
 */
export interface LoggedError {
  /** The error's class name (`TypeError`), or `typeof` for a thrown non-error. */
  name: string;
  /** Its message (for a non-error, the value as text). */
  message: string;
  /** Its stack trace. */
  stack?: string;
  /** Validation issues, when the error carries them (an output that failed its schema). */
  issues?: unknown;
  /** Its `cause`, serialised the same way. */
  cause?: LoggedError;
}

/**
 * An error as one JSON value: name, message, stack, `issues` and `cause`.
 *
 * @param error What was thrown.
 * @param depth How many `cause`s deep to follow.
 * @returns The serialisable form.
 */
export function serializeError(error: unknown, depth = 3): LoggedError {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const issues = (error as { issues?: unknown }).issues;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack ? { stack: error.stack } : {}),
    ...(issues !== undefined ? { issues } : {}),
    ...(error.cause !== undefined && depth > 0
      ? { cause: serializeError(error.cause, depth - 1) }
      : {}),
  };
}

const LEVELS: Record<LogLevel | "off", number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  off: 99,
};
/** Query parameters whose values never reach a log. */
const SECRET_PARAM = /token|key|secret|password|auth|signature/i;

/** Writes {@link LogRecord}s of one App at or above its level. */
export class Logger {
  #app: string;
  #min: number;
  #sink: ((record: LogRecord) => void) | undefined;
  #lines: LineWriter | undefined;
  #appJson: string;

  /**
   * Make a logger.
   *
   * @param app The App's name, in every record.
   * @param level The lowest level written.
   * @param sink Where records go. Default: JSON lines on stdout, buffered (`log_writer.ts`).
   */
  constructor(app: string, level: LogLevel, sink?: (record: LogRecord) => void) {
    this.#app = app;
    this.#appJson = JSON.stringify(app);
    this.#min = LEVELS[level];
    this.#sink = sink;
    if (!sink) this.#lines = stdoutWriter();
  }

  /**
   * Log one HTTP request.
   *
   * @param request The request.
   * @param requestId Its id.
   * @param status The response's status.
   * @param durationMs Time to the response.
   */
  request(request: Request, requestId: string, status: number, durationMs: number): void {
    const level: LogLevel = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
    if (LEVELS[level] < this.#min) return;
    const time = Date.now();
    const { url, method } = request;
    const lines = this.#lines;
    // To stdout the record is made at the flush, off the request's path: only what the
    // request holds is read now.
    if (lines) {
      lines.write(() => this.#requestLine(time, level, url, method, requestId, status, durationMs));
    } else this.#write(this.#request(time, level, url, method, requestId, status, durationMs));
  }

  /** {@link Logger.request}'s record as its JSON line, written out without the record. */
  #requestLine(
    time: number,
    level: LogLevel,
    url: string,
    method: string,
    requestId: string,
    status: number,
    durationMs: number,
  ): string {
    const { path, query } = splitUrl(url);
    return `{"time":"${isoTime(time)}","level":"${level}","msg":"request","app":${this.#appJson}` +
      `,"requestId":${JSON.stringify(requestId)},"method":${JSON.stringify(method)}` +
      `,"path":${JSON.stringify(path)}` +
      (query ? `,"query":${JSON.stringify(redactQuery(query))}` : "") +
      `,"status":${status},"durationMs":${round(durationMs)}}`;
  }

  #request(
    time: number,
    level: LogLevel,
    url: string,
    method: string,
    requestId: string,
    status: number,
    durationMs: number,
  ): LogRecord {
    const { path, query } = splitUrl(url);
    return {
      time: isoTime(time),
      level,
      msg: "request",
      app: this.#app,
      requestId,
      method,
      path,
      ...(query ? { query: redactQuery(query) } : {}),
      status,
      durationMs: round(durationMs),
    };
  }

  /**
   * Log a session's open.
   *
   * @param stats The session's numbers.
   * @param search The upgrade request's query string.
   */
  sessionOpen(stats: SessionStats, search: string): void {
    if (LEVELS.info < this.#min) return;
    this.#write({
      time: isoTime(Date.now()),
      level: "info",
      msg: "session open",
      app: this.#app,
      requestId: stats.requestId,
      path: stats.path,
      ...(search ? { query: redactQuery(search) } : {}),
      kind: stats.kind,
    });
  }

  /**
   * Log what a handler threw, stack included, as one record (never plain text between records).
   *
   * @param requestId The request's or session's id.
   * @param path Its URL path.
   * @param error What the handler threw.
   */
  handlerFailed(requestId: string, path: string, error: unknown): void {
    this.#write({
      time: new Date().toISOString(),
      level: "error",
      msg: "handler failed",
      app: this.#app,
      requestId,
      path,
      error: serializeError(error),
    });
  }

  /**
   * Log a session's close.
   *
   * @param stats The session's numbers, with its close code.
   */
  sessionClose(stats: SessionStats): void {
    const code = stats.closeCode ?? 1006;
    const level: LogLevel = code === 1011 ? "error" : code === 1008 ? "warn" : "info";
    if (LEVELS[level] < this.#min) return;
    this.#write({
      time: isoTime(Date.now()),
      level,
      msg: "session close",
      app: this.#app,
      requestId: stats.requestId,
      path: stats.path,
      kind: stats.kind,
      code,
      durationMs: round(performance.now() - stats.openedAt),
      messagesIn: stats.messagesIn,
      messagesOut: stats.messagesOut,
      dropped: stats.dropped,
      rateLimited: stats.rateLimited,
      ...(stats.errors ? { errors: { ...stats.errors } } : {}),
      handlerCalls: stats.handlerCalls,
      handlerMs: round(stats.handlerSeconds * 1000),
    });
  }

  #write(record: LogRecord): void {
    if (this.#lines) {
      this.#lines.write(JSON.stringify(record));
      return;
    }
    try {
      this.#sink!(record);
    } catch {
      // A failing sink loses the record, never the request.
    }
  }
}

/**
 * Read the `log` option: an App's own setting, else `RALLY_LOG` (`debug`, `info`, `warn`,
 * `error` or `off`), else off.
 *
 * @param option The App's `log` option.
 * @param app The App's name.
 * @returns The logger, or `undefined` when logging is off.
 * @throws {RangeError} for an unknown level.
 */
export function readLog(option: boolean | LogOptions | undefined, app: string): Logger | undefined {
  if (option === false) return undefined;
  const options = option === true ? {} : option;
  const level = options ? options.level ?? "info" : envLevel();
  if (level === undefined || level === "off") return undefined;
  if (!Object.hasOwn(LEVELS, level)) {
    const what = options ? "log.level" : "RALLY_LOG";
    throw new RangeError(
      `Cannot start the App: ${what} must be debug, info, warn, error or off, received ${level}`,
    );
  }
  return new Logger(app, level, options?.sink);
}

/**
 * A query string with the values of credential-like parameters (`fal_jwt_token`, `token`,
 * `key`, `secret`, ...) replaced by `[REDACTED]`.
 *
 * @param search The query string, with or without its `?`.
 * @returns The redacted query string, with its `?`.
 */
export function redactQuery(search: string): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  const pairs = query.split("&").map((pair) => {
    const equals = pair.indexOf("=");
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll("+", " "));
    } catch {
      // a malformed escape: match the raw name
    }
    return SECRET_PARAM.test(name) ? `${rawName}=[REDACTED]` : pair;
  });
  return `?${pairs.join("&")}`;
}

function envLevel(): LogLevel | "off" | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get("RALLY_LOG");
  } catch {
    return undefined; // no --allow-env: no logs unless the App asks
  }
  return value === undefined || value === "" ? undefined : value.toLowerCase() as LogLevel;
}

/**
 * The path and query of a URL as sent, without parsing the whole URL (`http://host/path?query`).
 * The query is `""` when there is none (or only a `?`).
 */
function splitUrl(url: string): { path: string; query: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return { path: "/", query: "" };
  const query = url.indexOf("?", start);
  if (query < 0) return { path: url.slice(start), query: "" };
  return { path: url.slice(start, query), query: query < url.length - 1 ? url.slice(query) : "" };
}

let second = NaN;
let secondPrefix = "";

/**
 * A time as an ISO 8601 string, `new Date(now).toISOString()`'s text at a fraction of its cost
 * (it measured about 1 µs a record): the date and time to the second are made once a second.
 */
function isoTime(now: number): string {
  const ms = now % 1000;
  if (now - ms !== second) {
    second = now - ms;
    secondPrefix = new Date(second).toISOString().slice(0, -4); // without "000Z"
  }
  return secondPrefix + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + "Z";
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
