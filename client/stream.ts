/**
 * `stream()`: call an SSE streaming endpoint and iterate over its outputs. Browser-safe.
 *
 * @module
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import { httpError } from "./http.ts";
import { clientFetch } from "./memory.ts";
import { endpointUrl } from "./socket.ts";
import { fetchFailed } from "./unreachable.ts";

/**
 * Options of {@link stream}.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { stream, type StreamClientOptions } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().stream("/count", {}, async function* () {
 *   for (let n = 0; n < 1000; n++) yield { n };
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const controller = new AbortController();
 * const options: StreamClientOptions = { path: "/count", signal: controller.signal };
 * let last = -1;
 * await assert.rejects(async () => {
 *   for await (const out of stream(url, options)) {
 *     last = (out as { n: number }).n;
 *     if (last === 2) controller.abort(); // the server's handler sees ctx.signal abort
 *   }
 * });
 * assert.equal(last, 2);
 * ```
 */
export interface StreamClientOptions {
  /** Path of the endpoint. Default `"/"`. */
  path?: string;
  /** The input, sent as the JSON body. */
  input?: unknown;
  /** A token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** An API key, sent as `Authorization: Key <key>` (keep keys out of browsers). */
  key?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Aborts the request (the server's handler sees its `ctx.signal` abort). */
  signal?: AbortSignal;
}

/**
 * An SSE stream ended with an `event: error`: the server's handler failed, or the server shut
 * down mid-stream.
 *
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { stream, StreamError } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App({ onError() {} }).stream("/tokens", {}, async function* () {
 *   yield { token: "a" };
 *   throw new Error("the model failed");
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const outputs: unknown[] = [];
 * await assert.rejects(async () => {
 *   for await (const out of stream(url, { path: "/tokens" })) outputs.push(out);
 * }, StreamError);
 * assert.deepEqual(outputs, [{ token: "a" }]);
 * ```
 */
export class StreamError extends Error {
  /** The error event's `detail`. */
  readonly detail: unknown;

  /**
   * Make the error of an error event.
   *
   * @param detail The event's `detail`.
   */
  constructor(detail: unknown) {
    super(`Stream failed: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    this.name = "StreamError";
    this.detail = detail;
  }
}

/**
 * Call an SSE streaming endpoint: `POST` the input, then yield each event's parsed `data`. The
 * iterable is returned at once; the request starts with the iteration. Leaving the loop (or
 * aborting `signal`) cancels the request.
 *
 * @param url The server's base URL.
 * @param options Path, input, token, headers, signal.
 * @returns The outputs, in order.
 * @throws {HttpError} (from the iteration) when the server answers with an error status.
 * @throws {StreamError} (from the iteration) when the stream ends with an error event.
 * @example
 * ```ts
 * import { App, serve } from "@rally/rally/server";
 * import { stream } from "@rally/rally/client";
 * import assert from "node:assert/strict";
 *
 * const app = new App().stream("/tokens", {}, async function* (input) {
 *   for (const token of (input as { prompt: string }).prompt.split(" ")) yield { token };
 * });
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 * const url = `http://127.0.0.1:${server.addr.port}`;
 *
 * const outputs = [];
 * for await (const out of stream(url, { path: "/tokens", input: { prompt: "a b" } })) {
 *   outputs.push(out);
 * }
 * assert.deepEqual(outputs, [{ token: "a" }, { token: "b" }]);
 * ```
 */
export function stream<O = Record<string, unknown>>(
  url: string | URL,
  options: StreamClientOptions = {},
): AsyncIterable<O> {
  return events<O>(url, options);
}

async function* events<O>(
  url: string | URL,
  options: StreamClientOptions,
): AsyncGenerator<O, void> {
  const cancel = new AbortController();
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
    ...options.headers,
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  else if (options.key) headers.authorization = `Key ${options.key}`;
  try {
    const href = endpointUrl(url, options.path ?? "/", false);
    const response = await clientFetch(href, {
      method: "POST",
      headers,
      body: JSON.stringify(options.input ?? null),
      signal: options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal,
    }).catch((error) => {
      throw fetchFailed(href, error);
    });
    if (!response.ok) throw await httpError(response);
    const type = response.headers.get("content-type") ?? "";
    if (!type.startsWith("text/event-stream") || !response.body) {
      throw new TypeError(`Expected an event stream from ${response.url}, got ${type || "none"}`);
    }
    const parsed = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream());
    for await (const event of parsed) {
      const data = JSON.parse(event.data);
      if (event.event === "error") throw new StreamError(data?.detail ?? data);
      yield data as O;
    }
  } finally {
    cancel.abort();
  }
}
