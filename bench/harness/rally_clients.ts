/**
 * Clients of the rally variants, written with rally's own client (`client/mod.ts`) and codec.
 *
 * @module
 */
import { Codec } from "../../codec.ts";
import { realtime, type RealtimeClientOptions, run, wsConnect } from "../../client/mod.ts";
import type { Duplex } from "./drivers.ts";

const codec = new Codec();

/**
 * Realtime over a WebRTC DataChannel (ordered), libwebrtc's peer (the client's default in Deno);
 * the server checks and offers loopback candidates only.
 */
export const WEBRTC: RealtimeClientOptions = { transport: "webrtc" };

/**
 * A realtime connection sending one fixed input.
 *
 * @param url The server's base URL.
 * @param path The realtime endpoint's path.
 * @param input The input sent with every message.
 * @param options More client options (`WEBRTC` for the DataChannel transport).
 * @returns The stream, once connected.
 */
export async function realtimeDuplex(
  url: string,
  path: string,
  input: object,
  options: RealtimeClientOptions = {},
): Promise<Duplex> {
  const conn = await realtime(url, { ...options, path });
  return {
    send: () => conn.send(input as Record<string, unknown>),
    receive: () => conn.receive(),
    close: () => conn.close(),
  };
}

/**
 * A raw rally WebSocket connection (`wsConnect`).
 *
 * @param url The server's base URL.
 * @param path The WebSocket endpoint's path.
 * @param message `{ input }`: msgpack-encode `input` with rally's codec for every message and
 *   decode every answer; `{ bytes }`: send `bytes` as one binary frame and take answers as is.
 * @returns The stream, once connected.
 */
export async function rallyWsDuplex(
  url: string,
  path: string,
  message: { input: object } | { bytes: Uint8Array },
): Promise<Duplex> {
  const ws = await wsConnect(url, { path });
  return "input" in message
    ? {
      send: () => ws.send(codec.encodeShared(message.input)),
      receive: async () => codec.decode((await ws.receive()) as Uint8Array),
      close: () => ws.close(),
    }
    : { send: () => ws.send(message.bytes), receive: () => ws.receive(), close: () => ws.close() };
}

/**
 * One `run()` call to an HTTP endpoint with a fixed input.
 *
 * @param url The server's base URL.
 * @param path The endpoint's path.
 * @param input The input.
 * @param format The body and answer encoding.
 * @returns A function making one call.
 */
export function rallyRequest(
  url: string,
  path: string,
  input: unknown,
  format: "json" | "msgpack",
): () => Promise<unknown> {
  return () => run(url, { path, input, format });
}
