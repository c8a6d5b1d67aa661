/**
 * Human-readable logs, the ones `rally dev` prints: one short line per request
 * (`POST / 200 1.2ms`), per session opened and closed, and a handler's error with its stack. A
 * {@link LogOptions} sink, so any App can log this way: `new App({ log: { sink: devLog() } })`.
 *
 * @module
 */
import type { LoggedError, LogOptions, LogRecord } from "./middleware/log.ts";

/**
 * A log sink that writes each record as one line of text (a handler's error: its stack on the
 * lines after) instead of a JSON line.
 *
 * @param write Where each line goes. Default: `console.log`.
 * @returns The sink, for the App's `log` option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { App, devLog } from "@rally/rally/server";
 *
 * const lines: string[] = [];
 * const app = new App({ log: { sink: devLog((line) => lines.push(line)) } })
 *   .endpoint("/", {}, () => ({ ok: true }));
 * const headers = { "content-type": "application/json" };
 * await app.fetch(new Request("http://localhost/", { method: "POST", headers, body: "{}" }));
 * assert.match(lines[0], /^POST \/ 200 \d+(\.\d+)?ms$/);
 * ```
 */
export function devLog(
  write: (line: string) => void = console.log,
): NonNullable<LogOptions["sink"]> {
  return (record) => write(formatRecord(record));
}

/**
 * One record as `rally dev` prints it:
 *
 * - a request: `POST /echo?x=1 200 1.2ms`;
 * - a session: `realtime /realtime opened` and
 *   `realtime /realtime closed 1000 after 2.4s: 3 in, 3 out, 1 dropped`;
 * - a handler's error: `error in /echo (request 5f1c…): TypeError: …` then its stack.
 *
 * Lines at level `warn` and `error` start with `WARN` and `ERROR`.
 *
 * @param record The log record.
 * @returns The text, without a trailing newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRecord } from "@rally/rally/server";
 *
 * const line = formatRecord({
 *   time: new Date().toISOString(),
 *   level: "warn",
 *   msg: "request",
 *   app: "demo",
 *   requestId: "r1",
 *   method: "POST",
 *   path: "/",
 *   status: 422,
 *   durationMs: 1.234,
 * });
 * assert.equal(line, "WARN POST / 422 1.2ms");
 * ```
 */
export function formatRecord(record: LogRecord): string {
  const mark = record.level === "error" ? "ERROR " : record.level === "warn" ? "WARN " : "";
  const path = record.path + (record.query ?? "");
  const msg = record.msg;
  if (msg === "request") {
    return `${mark}${record.method} ${path} ${record.status} ${duration(record.durationMs)}`;
  }
  if (msg === "session open") return `${mark}${record.kind} ${path} opened`;
  if (msg === "session close") {
    const counts = [
      `${record.messagesIn ?? 0} in`,
      `${record.messagesOut ?? 0} out`,
      ...(record.dropped ? [`${record.dropped} dropped`] : []),
      ...(record.rateLimited ? [`${record.rateLimited} rate-limited`] : []),
      ...Object.entries(record.errors ?? {}).map(([code, n]) => `${n} ${code}`),
    ];
    return `${mark}${record.kind} ${path} closed ${record.code} after ` +
      `${duration(record.durationMs)}: ${counts.join(", ")}`;
  }
  const error = record.error;
  if (error) return `${mark}${msg} in ${path} (request ${record.requestId}): ${describe(error)}`;
  return `${mark}${msg} ${path} (request ${record.requestId})`;
}

/** An error as text: its stack (which starts with name and message), then its causes. */
function describe(error: LoggedError): string {
  const head = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause ? `${head}\nCaused by ${describe(error.cause)}` : head;
}

/** Milliseconds as `0.4ms`, `12ms` or `2.4s`. */
function duration(ms: number | undefined): string {
  if (ms === undefined) return "?";
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return ms >= 10 ? `${Math.round(ms)}ms` : `${ms.toFixed(1)}ms`;
}
