/**
 * Reading the frames a realtime server sends, and encoding inputs within its announced limit:
 * shared by the script form (`realtime()`) and the callback form (`connect()`). Browser-safe.
 *
 * @module
 */
import { Codec, decodeText } from "../codec.ts";
import { type HelloLimits, type MetaFrame, parseControlFrame, RealtimeError } from "../protocol.ts";

/** The client side's one codec. */
export const codec: Codec = new Codec();

/** One frame from a realtime server, classified. */
export type ServerFrame =
  | { kind: "output"; value: unknown }
  | { kind: "error"; error: RealtimeError }
  | { kind: "meta"; meta: MetaFrame };

/**
 * Classify one received frame: binary frames are outputs, text frames are control frames (or,
 * from servers that send them, JSON outputs).
 *
 * @param data The frame's data (`binaryType = "arraybuffer"`; a view from a DataChannel).
 * @returns The frame.
 * @throws {DecodeError} when an output does not decode.
 */
export function readFrame(data: ArrayBuffer | Uint8Array | string): ServerFrame {
  if (typeof data !== "string") return { kind: "output", value: codec.decode(data) };
  const control = parseControlFrame(data);
  if (!control) return { kind: "output", value: decodeText(data) };
  if (control.type === "x-fal-message") return { kind: "meta", meta: control };
  const { error, reason, issues, retryable, unprocessed, count, closing } = control;
  return {
    kind: "error",
    error: new RealtimeError(error, reason, { issues, retryable, unprocessed, count, closing }),
  };
}

/**
 * The `maxMessageBytes` a `hello` meta frame announces, if the frame is one.
 *
 * @param meta A meta frame.
 * @returns The limit, or `undefined`.
 */
export function helloLimit(meta: MetaFrame): number | undefined {
  return meta.action === "hello"
    ? (meta.limits as HelloLimits | undefined)?.maxMessageBytes
    : undefined;
}

/**
 * Encode an input for sending, refusing it locally when it is over the server's limit.
 *
 * @param input The input.
 * @param maxBytes The server's `maxMessageBytes`, when known.
 * @returns The bytes (valid until the next encode: send them at once).
 * @throws {RealtimeError} `MESSAGE_TOO_LARGE` over the limit.
 */
export function encodeInput(input: unknown, maxBytes = Infinity): Uint8Array<ArrayBuffer> {
  const bytes = codec.encodeShared(input);
  if (bytes.length > maxBytes) {
    throw new RealtimeError(
      "MESSAGE_TOO_LARGE",
      `input of ${bytes.length} bytes is over the server's limit of ${maxBytes}`,
    );
  }
  return bytes;
}
