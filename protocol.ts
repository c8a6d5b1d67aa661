/**
 * Wire constants shared by rally's server and client: error codes, control frames, close
 * codes and the {@link RealtimeError} both sides raise. `docs/protocol.md` is the contract.
 *
 * @example
 * ```ts
 * import { errorFrame, parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * const text = errorFrame("INVALID_INPUT", "prompt: expected string");
 * assert.deepEqual(parseControlFrame(text), {
 *   type: "x-fal-error",
 *   error: "INVALID_INPUT",
 *   reason: "prompt: expected string",
 * });
 * ```
 *
 * @module
 */

/**
 * rally's version, reported by `GET /health`.
 *
 * @example
 * ```ts
 * import { VERSION } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION = "0.1.0";

/**
 * Error codes carried by `x-fal-error` frames (fal's, plus rally's extensions).
 *
 * @example
 * ```ts
 * import { type ErrorCode, RealtimeError } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const retryable: ErrorCode[] = ["RATE_LIMITED", "SHUTTING_DOWN"];
 * const error = new RealtimeError("SHUTTING_DOWN", "server is stopping");
 * assert.ok(error.code !== "CONNECTION_CLOSED" && retryable.includes(error.code));
 * ```
 */
export type ErrorCode =
  | "TIMEOUT"
  | "INVALID_INPUT"
  | "INTERNAL_ERROR"
  | "MESSAGE_TOO_LARGE"
  | "RATE_LIMITED"
  | "SHUTTING_DOWN";

/**
 * WebSocket close codes rally uses.
 *
 * @example
 * ```ts
 * import { CloseCode } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CloseCode.GOING_AWAY, 1001); // what a draining server closes with
 * ```
 */
export const CloseCode: Readonly<{
  /** Normal end (after `TIMEOUT`). */
  NORMAL: 1000;
  /** The server is going away. */
  GOING_AWAY: 1001;
  /** Policy violation (origin, rate limit). */
  POLICY: 1008;
  /** Unexpected server failure. */
  INTERNAL: 1011;
}> = Object.freeze({ NORMAL: 1000, GOING_AWAY: 1001, POLICY: 1008, INTERNAL: 1011 });

/**
 * The reason of the `TIMEOUT` frame, fal's words.
 *
 * @example
 * ```ts
 * import { errorFrame, TIMEOUT_REASON } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   errorFrame("TIMEOUT", TIMEOUT_REASON),
 *   '{"type":"x-fal-error","error":"TIMEOUT","reason":"no inputs, reconnect when needed!"}',
 * );
 * ```
 */
export const TIMEOUT_REASON = "no inputs, reconnect when needed!";

/**
 * An error frame: `{"type":"x-fal-error","error":CODE,"reason":TEXT,...}`.
 *
 * @example
 * ```ts
 * import { type ErrorFrame, parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * const frame = parseControlFrame(
 *   '{"type":"x-fal-error","error":"SHUTTING_DOWN","reason":"bye","unprocessed":2}',
 * ) as ErrorFrame;
 * assert.equal(frame.error, "SHUTTING_DOWN");
 * assert.equal(frame.unprocessed, 2);
 * ```
 */
export interface ErrorFrame {
  /** Always `"x-fal-error"`. */
  type: "x-fal-error";
  /** What went wrong. */
  error: ErrorCode;
  /** A human-readable reason. */
  reason: string;
  /** Validation details, for `INVALID_INPUT`. */
  issues?: readonly Issue[];
  /** Whether sending again later may succeed. */
  retryable?: boolean;
  /** Pending inputs the server will not handle, for `SHUTTING_DOWN`. */
  unprocessed?: number;
  /** How many refusals this frame stands for, when repeated ones collapsed into it (rally's). */
  count?: number;
  /**
   * The server closes the session (1008) after this frame: stop sending, do not reconnect
   * (rally's; the close itself can be lost while a client is still sending).
   */
  closing?: boolean;
}

/**
 * A STUN or TURN server, as in `RTCConfiguration.iceServers` (for either side's peer).
 *
 * @example
 * ```ts
 * import type { IceServer } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const iceServers: IceServer[] = [
 *   { urls: "stun:stun.example.com:3478" },
 *   { urls: ["turn:turn.example.com:3478"], username: "user", credential: "secret" },
 * ];
 * assert.equal(iceServers.length, 2);
 * ```
 */
export interface IceServer {
  /** `stun:host:port` or `turn:host:port` URL(s). */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/**
 * One message of a raw WebSocket: text, or bytes.
 *
 * @example
 * ```ts
 * import type { WebSocketMessage } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const size = (message: WebSocketMessage) =>
 *   typeof message === "string" ? new TextEncoder().encode(message).length : message.length;
 * assert.equal(size("hé"), 3);
 * assert.equal(size(new Uint8Array(4)), 4);
 * ```
 */
export type WebSocketMessage = string | Uint8Array;

/**
 * One validation complaint: where (`path`) and what (`message`).
 *
 * @example
 * ```ts
 * import { type Issue, RealtimeError } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const issues: Issue[] = [{ message: "Expected string", path: ["prompt"] }];
 * const error = new RealtimeError("INVALID_INPUT", "prompt: Expected string", { issues });
 * assert.deepEqual(error.issues?.[0].path, ["prompt"]);
 * ```
 */
export interface Issue {
  /** The complaint. */
  message: string;
  /** Keys from the input's root to the offending value. */
  path?: readonly (string | number)[];
}

/**
 * A meta frame: `{"type":"x-fal-message","action":...}`; fal clients ignore these.
 *
 * @example
 * ```ts
 * import { type MetaFrame, parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * const frame = parseControlFrame('{"type":"x-fal-message","action":"dropped","count":3}');
 * assert.equal((frame as MetaFrame).action, "dropped");
 * assert.equal((frame as MetaFrame).count, 3);
 * ```
 */
export interface MetaFrame {
  /** Always `"x-fal-message"`. */
  type: "x-fal-message";
  /** What the frame says (`"end"`, `"hello"`, `"dropped"`, `"timings"`, `"ping"`). */
  action: string;
  /** Fields that go with the action (`limits`, `count`, `timing`). */
  [key: string]: unknown;
}

/**
 * The text frame a client sends to end its input (client-streaming and bidi sessions).
 *
 * @example
 * ```ts
 * import { END_OF_INPUT, parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseControlFrame(END_OF_INPUT), { type: "x-fal-message", action: "end" });
 * ```
 */
export const END_OF_INPUT: string = '{"type":"x-fal-message","action":"end"}';

/**
 * Build the JSON text of an error frame.
 *
 * @param error The error code.
 * @param reason Why.
 * @param extra Optional `issues`, `retryable`, `unprocessed`, `count`, `closing`.
 * @returns Compact JSON for a text frame.
 * @example
 * ```ts
 * import { errorFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   errorFrame("SHUTTING_DOWN", "server is stopping", { retryable: true, unprocessed: 2 }),
 *   '{"type":"x-fal-error","error":"SHUTTING_DOWN","reason":"server is stopping",' +
 *     '"retryable":true,"unprocessed":2}',
 * );
 * ```
 */
export function errorFrame(
  error: ErrorCode,
  reason: string,
  extra?: Pick<ErrorFrame, "issues" | "retryable" | "unprocessed" | "count" | "closing">,
): string {
  return JSON.stringify({ type: "x-fal-error", error, reason, ...extra });
}

/**
 * The `limits` a server announces in its `hello` meta frame.
 *
 * @example
 * ```ts
 * import type { HelloLimits, MetaFrame } from "@rally/rally/protocol";
 * import { metaFrame, parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * const limits: HelloLimits = {
 *   maxMessageBytes: 1_048_576,
 *   buffering: null,
 *   maxBatchSize: 1,
 *   sessionTimeout: 60,
 * };
 * const hello = parseControlFrame(metaFrame("hello", { limits })) as MetaFrame;
 * assert.deepEqual(hello.limits, limits);
 * ```
 */
export interface HelloLimits {
  /** Largest input frame, in bytes. */
  maxMessageBytes: number;
  /** Pending-input bound, or `null` when unbounded. */
  buffering: number | null;
  /** Most inputs per handler call. */
  maxBatchSize: number;
  /** Idle seconds before `TIMEOUT`, or `null` for none. */
  sessionTimeout: number | null;
}

/**
 * Build the JSON text of a meta frame.
 *
 * @param action What the frame says: `"hello"`, `"dropped"`, `"timings"`, `"ping"`, `"end"`.
 * @param fields The fields that go with it.
 * @returns Compact JSON for a text frame.
 * @example
 * ```ts
 * import { metaFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   metaFrame("dropped", { count: 3 }),
 *   '{"type":"x-fal-message","action":"dropped","count":3}',
 * );
 * ```
 */
export function metaFrame(action: string, fields?: Record<string, unknown>): string {
  return JSON.stringify({ type: "x-fal-message", action, ...fields });
}

/**
 * Read a text frame as a control frame.
 *
 * @param text A text frame's data.
 * @returns The error or meta frame, or `undefined` when the text is not a control frame.
 * @example
 * ```ts
 * import { parseControlFrame } from "@rally/rally/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseControlFrame('{"type":"x-fal-message","action":"end"}'), {
 *   type: "x-fal-message",
 *   action: "end",
 * });
 * assert.equal(parseControlFrame('{"prompt":"hi"}'), undefined); // an input, not a control frame
 * ```
 */
export function parseControlFrame(text: string): ErrorFrame | MetaFrame | undefined {
  if (!text.includes('"x-fal-')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const type = (value as { type?: unknown } | null)?.type;
  return type === "x-fal-error" || type === "x-fal-message"
    ? value as ErrorFrame | MetaFrame
    : undefined;
}

/**
 * Options of a {@link RealtimeError} beyond its code and reason.
 *
 * @example
 * ```ts
 * import { RealtimeError, type RealtimeErrorOptions } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const options: RealtimeErrorOptions = { retryable: true, unprocessed: 2 };
 * const error = new RealtimeError("SHUTTING_DOWN", "server is stopping", options);
 * assert.equal(error.retryable, true);
 * assert.equal(error.unprocessed, 2);
 * ```
 */
export interface RealtimeErrorOptions extends ErrorOptions {
  /** Validation details. */
  issues?: readonly Issue[];
  /** Whether trying again later may succeed. */
  retryable?: boolean;
  /** Inputs the server did not handle. */
  unprocessed?: number;
  /** How many refusals the error stands for (repeated ones collapse into one). */
  count?: number;
  /** Whether the server closes the session after this error (1008). */
  closing?: boolean;
}

/**
 * An error of a realtime session: an error frame from the server, or a connection that
 * closed (`code` `"CONNECTION_CLOSED"`). Inside streaming-input handlers, invalid inputs are
 * thrown as this error too.
 *
 * @example
 * ```ts
 * import { RealtimeError } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const error = new RealtimeError("INVALID_INPUT", "prompt: expected string");
 * assert.equal(error.code, "INVALID_INPUT");
 * assert.equal(error.reason, "prompt: expected string");
 * assert.equal(error.message, "INVALID_INPUT: prompt: expected string");
 * ```
 */
export class RealtimeError extends Error {
  /** The error code (an {@link ErrorCode}, or `"CONNECTION_CLOSED"`). */
  readonly code: ErrorCode | "CONNECTION_CLOSED";
  /** The reason the server gave. */
  readonly reason: string;
  /** Validation details, when the server sent them. */
  readonly issues?: readonly Issue[];
  /** Whether trying again later may succeed. */
  readonly retryable?: boolean;
  /** Inputs the server did not handle (on `SHUTTING_DOWN`). */
  readonly unprocessed?: number;
  /** How many refusals the error stands for, when more than one collapsed into it. */
  readonly count?: number;
  /** Whether the server closes the session after this error (1008): the session is over. */
  readonly closing?: boolean;

  /**
   * Make the error.
   *
   * @param code The error code.
   * @param reason Why.
   * @param options Details and cause.
   */
  constructor(
    code: ErrorCode | "CONNECTION_CLOSED",
    reason: string,
    options: RealtimeErrorOptions = {},
  ) {
    super(`${code}: ${reason}`, options);
    this.name = "RealtimeError";
    this.code = code;
    this.reason = reason;
    if (options.issues) this.issues = options.issues;
    if (options.retryable !== undefined) this.retryable = options.retryable;
    if (options.unprocessed !== undefined) this.unprocessed = options.unprocessed;
    if (options.count !== undefined) this.count = options.count;
    if (options.closing !== undefined) this.closing = options.closing;
  }
}

/**
 * An HTTP error answer, on both sides: a handler throws it to answer with that status and
 * FastAPI's body `{"detail": detail}` (as Hono's `HTTPException`); the client's `run()`,
 * `stream()` and `fetchToken()` throw it when an endpoint answers with an error status.
 *
 * @example
 * ```ts
 * import { App, HttpError } from "@rally/rally";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", {}, () => {
 *   throw new HttpError(404, "No such model: try one of /models");
 * });
 * const response = await app.fetch(new Request("http://localhost/", { method: "POST" }));
 * assert.equal(response.status, 404);
 * assert.deepEqual(await response.json(), { detail: "No such model: try one of /models" });
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status, 400 to 599. */
  readonly status: number;
  /** The body's `detail`: a message, or a list of validation errors (FastAPI's shape). */
  readonly detail: unknown;

  /**
   * Make the error.
   *
   * @param status The HTTP status, an integer from 400 to 599.
   * @param detail A message, or any JSON value, sent as `{"detail": detail}`.
   * @param options The cause.
   * @throws {RangeError} when the status is not an error status.
   */
  constructor(status: number, detail: unknown, options?: ErrorOptions) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(
        `Cannot create HttpError: status must be an integer from 400 to 599, received ${status}`,
      );
    }
    super(
      `HTTP ${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`,
      options,
    );
    this.name = "HttpError";
    this.status = status;
    this.detail = detail;
  }
}
