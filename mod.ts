/**
 * rally: serve model-style apps over low-latency realtime endpoints with Deno.
 *
 * An {@link App} holds HTTP endpoints, realtime endpoints (msgpack over a persistent
 * WebSocket, many inputs and outputs on one connection), raw WebSocket endpoints and SSE
 * streaming endpoints, served by {@link serve}. The client ({@link realtime}, {@link wsConnect},
 * {@link run}, {@link stream}) shares the server's {@link Codec} and runs in Deno and in
 * browsers. The wire protocol is fal's, so fal's
 * own clients work against a rally server.
 *
 * @example
 * ```ts
 * import { App, realtime, serve } from "@rally/rally";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const app = new App({ name: "echo" }).realtime(
 *   "/realtime",
 *   { input: z.object({ prompt: z.string() }), output: z.object({ output: z.string() }) },
 *   (input) => ({ output: input.prompt }),
 * );
 * await using server = serve(app, { port: 0, hostname: "127.0.0.1", signals: false, onListen() {} });
 *
 * await using conn = await realtime(`http://127.0.0.1:${server.addr.port}`);
 * conn.send({ prompt: "Hello, world!" });
 * assert.deepEqual(await conn.receive(), { output: "Hello, world!" });
 * ```
 *
 * @module
 */
export * from "./server/mod.ts";
export * from "./client/mod.ts";
export { Codec, DecodeError, type DecodeLimits, DEFAULT_DECODE_LIMITS } from "./codec.ts";
export { VERSION } from "./protocol.ts";
