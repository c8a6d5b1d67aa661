/**
 * SSE streaming endpoints: `POST path` with an input body as for HTTP endpoints; the response is
 * `text/event-stream` with one `data: <json>` event per output the handler yields, and
 * `event: error` with `data: {"detail":...}` when the handler fails. Built on Hono's
 * `streamSSE`.
 *
 * @module
 */
import type { Context as HonoContext } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { type Context, createContext, type Host } from "./context.ts";
import { readValidInput, validOutput } from "./http.ts";
import { HttpError } from "../protocol.ts";
import type { StreamRoute } from "./routes.ts";
import type { InferInput, InferOutput, Schema } from "./schema.ts";

/**
 * Options of an SSE streaming endpoint.
 *
 * @example
 * ```ts
 * import { App, type StreamEndpointOptions } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const options: StreamEndpointOptions<typeof Input, undefined> = { input: Input };
 * const app = new App().stream("/tokens", options, function* (input) {
 *   yield* input.prompt.split(" ").map((token) => ({ token }));
 * });
 * const post = (body: unknown) =>
 *   app.fetch(new Request("http://localhost/tokens", {
 *     method: "POST",
 *     body: JSON.stringify(body),
 *     headers: { "content-type": "application/json" },
 *   }));
 * assert.equal((await post({ prompt: 1 })).status, 422); // refused before the stream starts
 * const text = await (await post({ prompt: "a b" })).text();
 * assert.match(text, /data: \{"token":"a"\}/);
 * ```
 */
export interface StreamEndpointOptions<I extends Schema | undefined, O extends Schema | undefined> {
  /** Schema of the request body; failures get 422 before the stream starts. */
  input?: I;
  /** Schema of each output; a failure ends the stream with an error event. */
  output?: O;
  /** Largest body accepted, in bytes (413 past it). Default: the App's. */
  maxMessageBytes?: number;
}

/**
 * An SSE endpoint's handler: the validated input in, outputs out, usually an async generator.
 * The stream ends when the iterable does.
 * @example
 * ```ts
 * import { App, type StreamHandler } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const countdown: StreamHandler<undefined, undefined> = async function* (_input, ctx) {
 *   for (let n = 3; n > 0 && !ctx.signal.aborted; n--) yield { n };
 * };
 * const app = new App().stream("/countdown", {}, countdown);
 * const response = await app.fetch(new Request("http://localhost/countdown", { method: "POST" }));
 * assert.equal(response.headers.get("content-type")?.split(";")[0], "text/event-stream");
 * assert.equal((await response.text()).match(/^data: /gm)?.length, 3);
 * ```
 */
export type StreamHandler<I extends Schema | undefined, O extends Schema | undefined> = (
  input: InferOutput<I>,
  ctx: Context,
) => AsyncIterable<InferInput<O>> | Iterable<InferInput<O>>;

/**
 * Answer one POST to an SSE endpoint. Input errors are answered as for HTTP endpoints
 * (413, 415, 422); past them the response is a stream.
 *
 * @param route The endpoint.
 * @param c Hono's context of the request.
 * @param host The App serving it.
 * @param done Called once when the handler's work is over (the stream ended or never began).
 * @returns The response.
 */
export async function handleStream(
  route: StreamRoute,
  c: HonoContext,
  host: Host,
  done: () => void,
): Promise<Response> {
  const request = c.req.raw;
  let input: { value: unknown } | Response;
  try {
    input = await readValidInput(route, request, host);
  } catch (error) {
    done();
    throw error;
  }
  if (input instanceof Response) {
    done();
    return input;
  }
  // Deno's request.signal also aborts after every successful response (and warns when read),
  // so the handler's signal follows the stream's own cancellation instead.
  const cancel = new AbortController();
  const ctx = createContext(request, () => AbortSignal.any([cancel.signal, host.closing]));
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => cancel.abort());
    try {
      const detail = await pump(route, input.value, ctx, sse, host);
      if (detail !== undefined && !sse.aborted) {
        await sse.writeSSE({ event: "error", data: JSON.stringify({ detail }) });
      }
    } finally {
      done();
    }
  });
}

/** Send the handler's outputs as events; returns the detail of the error event to end with. */
async function pump(
  route: StreamRoute,
  input: unknown,
  ctx: Context,
  sse: SSEStreamingApi,
  host: Host,
): Promise<unknown> {
  try {
    for await (const output of route.handler(input, ctx)) {
      if (sse.aborted || host.closing.aborted) break;
      await sse.writeSSE({ data: JSON.stringify(await validOutput(route.output, output)) });
    }
  } catch (error) {
    // After a cancel or a shutdown, the handler's error is only its way out.
    if (error instanceof HttpError) return error.detail;
    if (!ctx.signal.aborted) {
      host.reportError(error, ctx);
      return "Internal Server Error";
    }
  }
  // A stream that the shutdown cut short must not look complete.
  return host.closing.aborted ? "Server is shutting down" : undefined;
}
