/**
 * The answer every message-handling floor server gives: decode a msgpack `{ prompt }` and
 * encode `{ output: prompt }`, with one reused Encoder/Decoder per process.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";

const encoder = new Encoder();
const decoder = new Decoder();

/**
 * Answer one msgpack-encoded `{ prompt }` message.
 *
 * @param data The message bytes, as a server WebSocket delivers them.
 * @returns `{ output: prompt }` encoded into the shared buffer: send it before the next call.
 */
export function reply(data: ArrayBuffer | Uint8Array): Uint8Array<ArrayBuffer> {
  const { prompt } = decoder.decode(data) as { prompt: string };
  return encoder.encodeSharedRef({ output: prompt }) as Uint8Array<ArrayBuffer>;
}
