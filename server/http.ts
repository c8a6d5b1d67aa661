/**
 * HTTP endpoints: the body decoded by content type (JSON or msgpack) and read with a cap,
 * validation, the handler, and the output encoded by `Accept`; errors in FastAPI's shapes.
 *
 * @module
 */
import { DecodeError } from "../codec.ts";
import { type Context, createContext, type Host } from "./context.ts";
import { returnLargeBuffers } from "./memory.ts";
import { fail, handlerFailed } from "./response.ts";
import { STALLED } from "./stall_clock.ts";
import type { EndpointRoute } from "./routes.ts";
import {
  check,
  type Checked,
  type InferInput,
  type InferOutput,
  outputFailed,
  type Schema,
} from "./schema.ts";

/**
 * Options of an HTTP endpoint.
 *
 * @example
 * ```ts
 * import { App, type EndpointOptions } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ prompt: z.string() });
 * const options: EndpointOptions<typeof Input, undefined> = { input: Input, maxMessageBytes: 1024 };
 * const app = new App().endpoint("/", options, (input) => ({ length: input.prompt.length }));
 * const post = (body: unknown) =>
 *   app.fetch(new Request("http://localhost/", {
 *     method: "POST",
 *     body: JSON.stringify(body),
 *     headers: { "content-type": "application/json" },
 *   }));
 * assert.deepEqual(await (await post({ prompt: "hi" })).json(), { length: 2 });
 * assert.equal((await post({ prompt: 1 })).status, 422); // FastAPI's validation error
 * assert.equal((await post({ prompt: "x".repeat(2000) })).status, 413);
 * ```
 */
export interface EndpointOptions<I extends Schema | undefined, O extends Schema | undefined> {
  /** Schema of the request body; without one, any body passes. */
  input?: I;
  /** Schema of the handler's result; without one, any result is sent. */
  output?: O;
  /** Largest body accepted, in bytes (413 past it). Default: the App's. */
  maxMessageBytes?: number;
}

/**
 * An HTTP endpoint's handler: the validated input in, the output out.
 *
 * @example
 * ```ts
 * import { App, type EndpointHandler } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ a: z.number(), b: z.number() });
 * const add: EndpointHandler<typeof Input, undefined> = (input) => ({ sum: input.a + input.b });
 * const app = new App().endpoint("/", { input: Input }, add);
 * const post = (body: unknown) =>
 *   app.fetch(new Request("http://localhost/", {
 *     method: "POST",
 *     body: JSON.stringify(body),
 *     headers: { "content-type": "application/json" },
 *   }));
 * assert.deepEqual(await (await post({ a: 1, b: 2 })).json(), { sum: 3 });
 * ```
 */
export type EndpointHandler<I extends Schema | undefined, O extends Schema | undefined> = (
  input: InferOutput<I>,
  ctx: Context,
) => InferInput<O> | Promise<InferInput<O>>;

const MSGPACK_TYPES = new Set(["application/msgpack", "application/x-msgpack"]);

/**
 * Answer one POST to an HTTP endpoint.
 *
 * @param route The endpoint.
 * @param request The request.
 * @param host The App serving it.
 * @param done Called once the answer is ready, also when reading the body failed.
 * @returns The response: the output, or a FastAPI-shaped error (never a rejection).
 */
export async function handleEndpoint(
  route: EndpointRoute,
  request: Request,
  host: Host,
  done: () => void,
): Promise<Response> {
  try {
    let input: Awaited<ReturnType<typeof readValidInput>>;
    try {
      input = await readValidInput(route, request, host);
    } catch (error) {
      // The body could not be read: the client went away, most likely.
      host.reportError(error, createContext(request, () => request.signal));
      return fail(500, "Internal Server Error");
    }
    if (input instanceof Response) return input;
    const ctx = createContext(request, () => AbortSignal.any([request.signal, host.closing]));
    try {
      let output = route.handler(input.value, ctx);
      if (output instanceof Promise) output = await output;
      let valid = validOutput(route.output, output);
      if (valid instanceof Promise) valid = await valid;
      return respond(valid, request, host);
    } catch (error) {
      return handlerFailed(error, (error) => host.reportError(error, ctx));
    }
  } finally {
    done();
  }
}

/** What {@link readValidInput} needs of a route. */
export interface InputRoute {
  /** Schema of the body. */
  input?: Schema;
  /** Body cap in bytes. */
  maxMessageBytes: number;
}

/**
 * Read a request's body as an input: capped (413), given up when it stalls (408), decoded by content type (415, 422) and
 * validated against the route's schema (422, FastAPI's shape).
 *
 * @param route The input schema and body cap.
 * @param request The request.
 * @param host The App serving it (for the codec).
 * @returns The validated input, or the error response to send.
 */
export async function readValidInput(
  route: InputRoute,
  request: Request,
  host: Host,
): Promise<{ value: unknown } | Response> {
  returnLargeBuffers(); // once per process (a flag check after): large bodies' memory comes back
  const format = bodyFormat(request, route.maxMessageBytes);
  if (format instanceof Response) return format;
  let value: unknown;
  try {
    if (format.declared !== null && Number(format.declared) <= WHOLE_BODY_BYTES) {
      // A small body of declared length (the server enforces it) is read whole by Deno: tens of
      // µs faster than a stream here. It has `bodyTimeout` to arrive in full. Deno's `json()`
      // beats `text()` and `JSON.parse`; a body no longer than the value budget cannot hold more
      // values than it has bytes, so only a longer one is counted first (the codec's budget
      // applies to JSON as to msgpack).
      const budgeted = Number(format.declared) <= host.codec.maxElements;
      const body = format.msgpack
        ? request.arrayBuffer()
        : format.declared === "0"
        ? Promise.resolve(undefined)
        : budgeted
        ? request.json()
        : request.text();
      const read = await host.stallClock.within(body);
      if (read === STALLED) return stalled(host.bodyTimeout);
      value = format.msgpack
        ? host.codec.decode(new Uint8Array(read as ArrayBuffer))
        : typeof read === "string" && !budgeted
        ? host.codec.decodeText(read)
        : read;
    } else {
      const body = await readBody(request, route.maxMessageBytes, host.bodyTimeout);
      if (body === TOO_LARGE) return tooLarge(route.maxMessageBytes);
      if (body === STALLED) return stalled(host.bodyTimeout);
      value = format.msgpack
        ? host.codec.decode(body)
        : body.length === 0
        ? undefined
        : host.codec.decodeText(new TextDecoder().decode(body));
    }
  } catch (error) {
    if (error instanceof DecodeError && error.cause instanceof SyntaxError) {
      return invalid(`Invalid JSON: ${error.cause.message}`, format.msgpack);
    }
    if (error instanceof DecodeError) return invalid(error.message, format.msgpack);
    if (error instanceof SyntaxError) {
      return invalid(`Invalid JSON: ${error.message}`, format.msgpack);
    }
    throw error; // a body that could not be read (the client went away) is no bad input
  }
  let checked = check(route.input, value);
  if (checked instanceof Promise) checked = await checked;
  if (!checked.issues) return checked;
  return fail(
    422,
    checked.issues.map((issue) => ({
      loc: ["body", ...(issue.path ?? [])],
      msg: issue.message,
      type: "value_error",
    })),
  );
}

/**
 * Validate a handler's output against the route's output schema.
 *
 * @param schema The output schema, if any.
 * @param output What the handler returned or yielded.
 * @returns The schema's (possibly transformed) value; a promise only for an async schema.
 * @throws {TypeError} when the output fails the schema (a server bug: the client gets a 500).
 */
export function validOutput(schema: Schema | undefined, output: unknown): unknown {
  const result = check(schema, output);
  return result instanceof Promise ? result.then(outputValue) : outputValue(result);
}

function outputValue(result: Checked): unknown {
  if (result.issues) {
    throw outputFailed(result.issues);
  }
  return result.value;
}

/** How a body is sent, read from the headers, or the 413 or 415 to answer. */
function bodyFormat(
  request: Request,
  maxBytes: number,
): { msgpack: boolean; declared: string | null } | Response {
  const header = request.headers.get("content-type");
  // The common header as it comes, without parsing it.
  const type = header === "application/json"
    ? header
    : header?.split(";", 1)[0].trim().toLowerCase();
  const msgpack = type !== undefined && MSGPACK_TYPES.has(type);
  if (!msgpack && type !== undefined && type !== "application/json" && type !== "") {
    return fail(
      415,
      `Unsupported content type ${type}: send application/json or application/msgpack`,
    );
  }
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) return tooLarge(maxBytes);
  return { msgpack, declared };
}

function invalid(msg: string, msgpack: boolean): Response {
  return fail(422, [{ loc: ["body"], msg, type: msgpack ? "msgpack_invalid" : "json_invalid" }]);
}

function tooLarge(maxBytes: number): Response {
  return fail(413, `Request body is larger than ${maxBytes} bytes`);
}

function stalled(seconds: number): Response {
  // The rest of the body is never read: the connection cannot carry another request.
  return fail(408, `Request body stalled: no bytes for ${seconds} s (bodyTimeout)`, {
    connection: "close",
  });
}

/** {@link readBody}'s answers besides the bytes. */
const TOO_LARGE = Symbol("too large");

/** Bodies of a declared length up to this are read whole; larger ones chunk by chunk. */
const WHOLE_BODY_BYTES = 64 * 1024;

/**
 * Read a body, giving up as soon as it passes `maxBytes` (never buffering it whole) or when no
 * chunk came for `stallSeconds`. One timer per body, moved on lazily: a chunk only notes the time.
 */
async function readBody(
  request: Request,
  maxBytes: number,
  stallSeconds: number,
): Promise<Uint8Array | typeof TOO_LARGE | typeof STALLED> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const stallMs = stallSeconds * 1000;
  let lastChunk = Date.now();
  let stall = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const quietMs = Date.now() - lastChunk;
    if (quietMs < stallMs) timer = setTimeout(check, stallMs - quietMs);
    else {
      stall = true;
      reader.cancel().catch(() => {}); // ends the pending read
    }
  };
  if (Number.isFinite(stallMs)) timer = setTimeout(check, stallMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (stall) return STALLED;
      if (done) break;
      lastChunk = Date.now();
      size += value.length;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}

function respond(value: unknown, request: Request, host: Host): Response {
  const accept = request.headers.get("accept");
  if (accept && /application\/(x-)?msgpack/i.test(accept)) {
    return new Response(host.codec.encode(value), {
      headers: { "content-type": "application/msgpack" },
    });
  }
  // A handler that returns nothing answers `null`, as FastAPI does for `None`.
  return Response.json(value ?? null);
}
