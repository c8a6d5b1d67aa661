/**
 * The App's options: what they are, their defaults, and the checks of the numeric ones (run
 * when an App starts, since a subclass's fields are set only after the base constructor).
 *
 * @module
 */
import type { AuthOptions } from "./middleware/auth.ts";
import type { Context } from "./context.ts";
import type { CorsOptions } from "./middleware/cors.ts";
import type { LogOptions } from "./middleware/log.ts";
import type { RateLimit } from "./middleware/rate_limit.ts";

/**
 * Options of an {@link App}. Each one is also a public property of the App, so a subclass
 * can set it as a class field instead (a field wins over the constructor's option) or, for the
 * hooks, as a method. They are read when the App starts (at `serve()` or its first request).
 * @example
 * ```ts
 * import { App, type AppOptions } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const options: AppOptions = {
 *   name: "my-app",
 *   keepAlive: 300, // seconds, as fal's keep_alive
 *   maxConcurrency: 4,
 *   onError: (error) => console.error(error), // clients see a generic message only
 * };
 * const app = new App(options);
 * assert.equal(app.name, "my-app");
 * assert.equal(app.keepAlive, 300); // each option is a property too
 * ```
 */
export interface AppOptions {
  /** The app's name (fal's app name). Default: a subclass's name in kebab case, else `"rally"`. */
  name?: string;
  /** Largest message or body accepted by every endpoint that does not set its own. Default 16 MiB, at most 64 MiB. */
  maxMessageBytes?: number;
  /**
   * Called with every error a handler throws (clients see only a generic message).
   * Default: `console.error`.
   */
  onError?: (error: unknown, ctx: Context) => void;
  /** Runs before the App takes work (load a model here): at `serve()`, or on the first request. */
  setup?: () => void | Promise<void>;
  /** Runs at shutdown, once in-flight work has drained (under rally's `serve()`). */
  teardown?: () => void | Promise<void>;
  /** Seconds with no request and no open socket after which `serve()` stops by itself. Default: never. */
  keepAlive?: number;
  /** HTTP and SSE requests handled at once; more wait in a queue. Default: no limit. */
  maxConcurrency?: number;
  /** Requests that may wait for a `maxConcurrency` slot; more get 503. Default 100. */
  maxQueue?: number;
  /**
   * Turn auth on for every route but `/health`: keys, tokens from `POST /tokens`, or `verify`.
   * Needs a secret (`auth.secret` or `RALLY_SECRET`). Default: off.
   */
  auth?: AuthOptions;
  /** Origins allowed to open WebSockets (others get 403; no `Origin` passes). Default: any. */
  allowedOrigins?: readonly string[];
  /** CORS for HTTP and SSE endpoints and their preflights (`true`: any origin). Default: off. */
  cors?: boolean | CorsOptions;
  /** Open WebSocket sessions (realtime and raw) at once; more get 503. Default: no limit. */
  maxSessions?: number;
  /**
   * Seconds a WebSocket peer has to send its first message; one that sends none is closed
   * (realtime: `TIMEOUT`, then 1000, so clients reconnect on their next send; raw: 1008, unless
   * the handler sent first). 0 turns it off. Default 10.
   */
  firstMessageTimeout?: number;
  /** Seconds a request body may stall between two chunks before it gets 408. 0 turns it off. Default 10. */
  bodyTimeout?: number;
  /** What one realtime connection may send per second. Default: no limit. */
  rateLimit?: RateLimit;
  /**
   * Structured logs, one JSON line per HTTP request and per session open and close (`true`:
   * level `info` on stdout). Default: the `RALLY_LOG` environment variable's level, else off
   * (`rally serve` sets `RALLY_LOG=info` when it is unset).
   */
  log?: boolean | LogOptions;
  /** Serve `GET /metrics` in Prometheus' text format (behind auth when auth is on). Default false. */
  metrics?: boolean;
  /**
   * The playground at `GET /docs` (behind auth when auth is on): `false` turns it off, a path
   * moves it. Default `true`.
   */
  docs?: boolean | string;
}

/**
 * The options that are also public properties of an {@link App} (its hooks are methods, and its
 * `name` is always set).
 * @example
 * ```ts
 * import { App, type AppFields } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const fields: AppFields = { keepAlive: 60, metrics: true };
 * const app = Object.assign(new App(), fields); // the same options, as properties
 * assert.equal(app.metrics, true);
 * ```
 */
export type AppFields = Omit<AppOptions, "name" | "onError" | "setup" | "teardown">;

/** The default of `maxMessageBytes`: 16 MiB (uvicorn's, which fal's runners use). */
export const DEFAULT_MAX_MESSAGE_BYTES: number = 16 * 1024 * 1024;
/** The default of `maxQueue`: requests that may wait for a `maxConcurrency` slot. */
export const DEFAULT_MAX_QUEUE: number = 100;
/** The default of `firstMessageTimeout` and `bodyTimeout`, in seconds. */
export const DEFAULT_STALL_TIMEOUT: number = 10;
/** Deno closes a connection that sends a frame over 64 MiB, so no limit may pass it. */
const MAX_MESSAGE_BYTES_CEILING = 64 * 1024 * 1024;

/** The numeric options as an App sets them (each may be unset). */
export type Limits = Pick<
  AppOptions,
  | "maxMessageBytes"
  | "keepAlive"
  | "maxConcurrency"
  | "maxQueue"
  | "firstMessageTimeout"
  | "bodyTimeout"
>;

/** The numeric options checked, with their defaults filled in. */
export interface Settings {
  /** Largest message or body, in bytes. */
  maxMessageBytes: number;
  /** Seconds without work before `serve()` stops by itself (`Infinity`: never). */
  keepAlive: number;
  /** HTTP and SSE requests handled at once (`Infinity`: no limit). */
  maxConcurrency: number;
  /** Requests that may wait for a slot. */
  maxQueue: number;
  /** Seconds for a WebSocket peer's first message (`Infinity`: no limit). */
  firstMessageTimeout: number;
  /** Seconds a request body may stall between chunks (`Infinity`: no limit). */
  bodyTimeout: number;
}

/** The range a numeric option must fall in, for {@link checkNumber}. */
export interface NumberRange {
  /** Smallest value allowed. */
  min?: number;
  /** Values must be greater than this. */
  above?: number;
  /** Largest value allowed. */
  max?: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** The unit, for the message (`"seconds"`). */
  unit?: string;
}

/**
 * Check a numeric option, with one message style for all: "Cannot start the App: keepAlive must
 * be a number of seconds greater than 0, received -1".
 *
 * @param action What could not be done ("start the App", "add the realtime route /x").
 * @param name The option's name.
 * @param value The option, if set (unset passes).
 * @param range What it must be.
 * @throws {RangeError} when it is set and out of range.
 */
export function checkNumber(
  action: string,
  name: string,
  value: number | undefined,
  range: NumberRange,
): void {
  if (value === undefined) return;
  const { min, above, max, integer, unit } = range;
  const fits = typeof value === "number" && !Number.isNaN(value) &&
    (!integer || Number.isInteger(value)) && (min === undefined || value >= min) &&
    (above === undefined || value > above) && (max === undefined || value <= max);
  if (fits) return;
  let rule = (integer ? "a whole number" : "a number") + (unit ? ` of ${unit}` : "");
  if (min !== undefined && max !== undefined) rule += ` from ${min} to ${max}`;
  else if (above !== undefined) {
    rule += ` greater than ${above}` + (max !== undefined ? ` and at most ${max}` : "");
  } else if (min !== undefined) rule += ` of at least ${min}`;
  else if (max !== undefined) rule += ` of at most ${max}`;
  throw new RangeError(`Cannot ${action}: ${name} must be ${rule}, received ${String(value)}`);
}

/**
 * Check an App's numeric options and fill in their defaults.
 *
 * @param limits The options as set.
 * @returns The settings to run with.
 * @throws {RangeError} for a value out of range.
 */
export function readSettings(limits: Limits): Settings {
  const { keepAlive, maxConcurrency, maxQueue } = limits;
  const action = "start the App";
  checkMessageBytes(action, limits.maxMessageBytes);
  checkNumber(action, "keepAlive", keepAlive, { above: 0, unit: "seconds" });
  checkNumber(action, "maxConcurrency", maxConcurrency, { min: 1, integer: true });
  checkNumber(action, "maxQueue", maxQueue, { min: 0, integer: true });
  return {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    firstMessageTimeout: timeout(action, "firstMessageTimeout", limits.firstMessageTimeout),
    bodyTimeout: timeout(action, "bodyTimeout", limits.bodyTimeout),
    keepAlive: keepAlive ?? Infinity,
    maxConcurrency: maxConcurrency ?? Infinity,
    maxQueue: maxQueue ?? DEFAULT_MAX_QUEUE,
  };
}

/** A timeout option in seconds: 0 is off (`Infinity`), unset is the default. */
function timeout(action: string, name: string, value: number | undefined): number {
  checkNumber(action, name, value, { min: 0, unit: "seconds" });
  if (value === undefined) return DEFAULT_STALL_TIMEOUT;
  return value === 0 ? Infinity : value;
}

/**
 * Check a `maxMessageBytes` option: 1 byte to 64 MiB (Deno's own frame cap).
 *
 * @param action What could not be done with a wrong value.
 * @param value The option, if set.
 * @throws {RangeError} unless it is between 1 and 64 MiB.
 */
export function checkMessageBytes(action: string, value: number | undefined): void {
  checkNumber(action, "maxMessageBytes", value, {
    min: 1,
    max: MAX_MESSAGE_BYTES_CEILING,
    integer: true,
    unit: "bytes",
  });
}
