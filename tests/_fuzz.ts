/**
 * The fuzzers' oracle and generators: what the fuzz App (`tests/fixtures/fuzz_app.ts`) must
 * answer to any frame or body, worked out with the same codec and schema but without the
 * server, and fast-check arbitraries for frames that are valid, nearly valid, or garbage.
 *
 * @module
 */
import fc from "fast-check";
import { Codec, DecodeError } from "../codec.ts";
import { END_OF_INPUT } from "../protocol.ts";
import { answer, Input, SMALL_MAX_BYTES } from "./fixtures/fuzz_app.ts";

/** The frames and bodies asked for: `FUZZ_FRAMES` (default 100,000, the CI count). */
export const FUZZ_FRAMES: number = Number(Deno.env.get("FUZZ_FRAMES") ?? 100_000);

const oracleCodec = new Codec();
const utf8 = new TextEncoder();

/** What a frame must get back: nothing, one output, or one error frame. */
export type Expected =
  | { kind: "none" }
  | { kind: "output"; value: unknown }
  | { kind: "error"; code: "INVALID_INPUT" | "MESSAGE_TOO_LARGE" };

/**
 * A frame as the server receives it: Deno's WebSocket sends a string as UTF-8, so lone
 * surrogates arrive as U+FFFD.
 */
export function onTheWire(frame: string | Uint8Array): string | Uint8Array {
  return typeof frame === "string" ? new TextDecoder().decode(utf8.encode(frame)) : frame;
}

/** The value an output decodes to on the client: encoded and decoded by the codec. */
function asDecoded(value: unknown): unknown {
  return oracleCodec.decode(oracleCodec.encode(value));
}

/**
 * What the fuzz App's `/rt` endpoint (no buffering, input schema, 4 KiB frames) answers.
 *
 * @param sent The frame as sent.
 * @returns The expected answer.
 */
export function expectRealtime(sent: string | Uint8Array): Expected {
  const frame = onTheWire(sent);
  if (frame === END_OF_INPUT) return { kind: "none" };
  const size = typeof frame === "string" ? utf8.encode(frame).length : frame.length;
  if (size > SMALL_MAX_BYTES) return { kind: "error", code: "MESSAGE_TOO_LARGE" };
  let value: unknown;
  try {
    value = typeof frame === "string" ? JSON.parse(frame) : oracleCodec.decode(frame);
  } catch (error) {
    if (typeof frame !== "string" && !(error instanceof DecodeError)) throw error;
    return { kind: "error", code: "INVALID_INPUT" };
  }
  const parsed = Input.safeParse(value);
  if (!parsed.success) return { kind: "error", code: "INVALID_INPUT" };
  return { kind: "output", value: asDecoded(answer(parsed.data)) };
}

/** One HTTP request of the fuzzer. */
export interface FuzzRequest {
  /** The `content-type` header, or none. */
  contentType?: string;
  /** `accept: application/msgpack`, or no `accept`. */
  msgpack: boolean;
  /** Send the body as a stream (no `content-length`). */
  chunked: boolean;
  /** The body. */
  body: Uint8Array;
}

/** What an HTTP fuzz request must get: a status, and for 200 the body. */
export interface ExpectedResponse {
  /** The status. */
  status: 200 | 413 | 415 | 422;
  /** The body of a 200, as the client decodes it. */
  value?: unknown;
}

const MSGPACK_TYPES = new Set(["application/msgpack", "application/x-msgpack"]);

/**
 * What the fuzz App's `POST /` endpoint (4 KiB bodies) answers.
 *
 * @param request The request.
 * @returns The expected status and body.
 */
export function expectHttp(request: FuzzRequest): ExpectedResponse {
  const type = request.contentType?.split(";", 1)[0].trim().toLowerCase();
  const msgpack = type !== undefined && MSGPACK_TYPES.has(type);
  if (!msgpack && type !== undefined && type !== "application/json" && type !== "") {
    return { status: 415 };
  }
  if (request.body.length > SMALL_MAX_BYTES) return { status: 413 };
  let value: unknown;
  try {
    if (msgpack) value = oracleCodec.decode(request.body);
    else if (request.body.length > 0) value = JSON.parse(new TextDecoder().decode(request.body));
  } catch {
    return { status: 422 };
  }
  const parsed = Input.safeParse(value);
  if (!parsed.success) return { status: 422 };
  const output = answer(parsed.data);
  return {
    status: 200,
    value: request.msgpack ? asDecoded(output) : JSON.parse(JSON.stringify(output)),
  };
}

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** Inputs near the schema: most valid, some with a field out of range or of the wrong type. */
export const nearInput: fc.Arbitrary<Record<string, unknown>> = fc.record({
  n: fc.oneof(
    { weight: 8, arbitrary: fc.integer() },
    fc.double(),
    fc.string({ maxLength: 4 }),
  ),
  prompt: optional(fc.string({ unit: "binary", maxLength: 300 })),
  tags: optional(fc.array(fc.string({ maxLength: 40 }), { maxLength: 10 })),
  image: optional(fc.uint8Array({ maxLength: 1500 })),
  options: optional(fc.record({
    steps: fc.integer({ min: -2, max: 60 }),
    seed: optional(fc.double()),
  })),
  extra: optional(fc.anything({ maxDepth: 3 })),
}, { requiredKeys: ["n"] });

/** Encode, or `undefined` when the value has no msgpack form. */
function tryEncode(value: unknown): Uint8Array | undefined {
  try {
    return oracleCodec.encode(value);
  } catch {
    return undefined;
  }
}

const encodedInput = nearInput.map((input) => tryEncode(input) ?? new Uint8Array([0xc1]));

/** A header byte of a container with a large count, followed by too few elements. */
const bigContainer = fc.tuple(
  fc.constantFrom(0xdc, 0xdd, 0xde, 0xdf),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ maxLength: 64 }),
).map(([head, count, rest]) => Uint8Array.from([head, ...count, ...rest]));

/** Arrays nested `depth` deep, alone or under a key of an otherwise valid input. */
const deepNesting = fc.tuple(fc.integer({ min: 1, max: 3_900 }), fc.boolean()).map(
  ([depth, inside]) => {
    const prefix = inside ? [0x82, 0xa1, 0x6e, 0x01, 0xa1, 0x78] : [];
    const bytes = new Uint8Array(prefix.length + depth + 1).fill(0x91);
    bytes.set(prefix);
    bytes[bytes.length - 1] = 0xc0;
    return bytes;
  },
);

/** Flip some bytes of an encoded input. */
const mutated = fc.tuple(
  encodedInput,
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 4,
  }),
).map(([bytes, flips]) => {
  const copy = bytes.slice();
  for (const [at, value] of flips) copy[at % copy.length] = value;
  return copy;
});

/** Cut an encoded input short. */
const truncated = fc.tuple(encodedInput, fc.nat()).map(([bytes, at]) =>
  bytes.subarray(0, at % Math.max(1, bytes.length))
);

/** A frame over the 4 KiB cap: zero bytes (which would decode as an integer) or random ones. */
const oversized = fc.tuple(
  fc.integer({ min: SMALL_MAX_BYTES + 1, max: 3 * SMALL_MAX_BYTES }),
  fc.boolean(),
)
  .map(([size, zeros]) =>
    zeros ? new Uint8Array(size) : crypto.getRandomValues(new Uint8Array(size))
  );

/** JSON text of an input near the schema (bytes left out: JSON has none). */
const jsonInput = nearInput.map(({ image: _image, ...rest }) => {
  try {
    return JSON.stringify(rest) ?? "null";
  } catch {
    return "{}";
  }
});

/**
 * One frame: a binary `Uint8Array` or a text string, good, nearly good or garbage, at weights
 * that keep about a third of them valid.
 */
export const frame: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  { weight: 10, arbitrary: encodedInput },
  { weight: 2, arbitrary: jsonInput },
  {
    weight: 2,
    arbitrary: fc.anything({ maxDepth: 4 }).map((v) => tryEncode(v) ?? new Uint8Array()),
  },
  { weight: 2, arbitrary: truncated },
  { weight: 2, arbitrary: mutated },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 5000 }) },
  { weight: 1, arbitrary: oversized },
  { weight: 1, arbitrary: bigContainer },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(END_OF_INPUT) },
);

/** An HTTP request of the fuzzer: a frame's bytes as the body, and random headers. */
export const request: fc.Arbitrary<FuzzRequest> = fc.record({
  contentType: fc.option(
    fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/msgpack",
      "application/x-msgpack",
      "APPLICATION/MSGPACK",
      "",
      "text/plain",
      "multipart/form-data; boundary=x",
    ),
    { nil: undefined },
  ),
  msgpack: fc.boolean(),
  chunked: fc.boolean(),
  body: frame.map((f) => typeof f === "string" ? utf8.encode(f) : f),
}, { requiredKeys: ["msgpack", "chunked", "body"] });
