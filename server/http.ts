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
import type { EndpointRoute } from "./routes.ts";
import { check, type Checked, type InferInput, type InferOutput, type Schema } from "./schema.ts";

/** Options of an HTTP endpoint. */
export interface EndpointOptions<I extends Schema | undefined, O extends Schema | undefined> {
  /** Schema of the request body; without one, any body passes. */
  input?: I;
  /** Schema of the handler's result; without one, any result is sent. */
  output?: O;
  /** Largest body accepted, in bytes (413 past it). Default: the App's. */
  maxMessageBytes?: number;
}

/** An HTTP endpoint's handler: the validated input in, the output out. */
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
 * Read a request's body as an input: capped (413), decoded by content type (415, 422) and
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
    // The server enforces a declared length, so such a body can be read in one go. Deno's
    // `json()` measured about 3 µs faster per request here than `text()` and `JSON.parse`; a
    // body no longer than the value budget cannot hold more values than it has bytes, so only
    // longer ones are counted first (the codec's budget applies to JSON as to msgpack).
    if (format.declared === null) {
      const body = await readCapped(request, route.maxMessageBytes);
      if (body === undefined) return tooLarge(route.maxMessageBytes);
      value = format.msgpack
        ? host.codec.decode(body)
        : body.length === 0
        ? undefined
        : host.codec.decodeText(new TextDecoder().decode(body));
    } else if (format.msgpack) {
      value = host.codec.decode(new Uint8Array(await request.arrayBuffer()));
    } else if (Number(format.declared) > host.codec.maxElements) {
      value = host.codec.decodeText(await request.text());
    } else if (format.declared !== "0") {
      value = await request.json();
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
    throw new TypeError(`Output failed its schema: ${JSON.stringify(result.issues)}`);
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

/**
 * Read a body of unknown length, or return `undefined` as soon as it passes `maxBytes` (never
 * buffering it whole).
 */
async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
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
