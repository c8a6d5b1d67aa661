/**
 * The rally variants' server: one App with every route the bench uses. Each rally variant
 * runs its own process of it, so per-process CPU readings stay per variant.
 *
 * - `POST /` and `GET /realtime`: `{ prompt }` in, `{ output }` out, zod-validated.
 * - `POST /image` and `GET /realtime-image`: `{ image: Uint8Array }` echoed (100 KB).
 * - `GET /ws`: raw WebSocket answering msgpack `{ prompt }` with `{ output }`.
 * - `GET /echo`: raw WebSocket sending every frame back.
 * - `GET /webrtc-video`: WebRTC signaling for a video track whose frames go back as they came.
 * - `GET /webrtc` and `GET /webrtc-image`: WebRTC signaling; the DataChannel is served by
 *   `/realtime` and `/realtime-image` (libwebrtc's peer, loaded by the first signaling session; loopback candidates only).
 *
 * @module
 */
import { z } from "zod";
import { App, serve } from "../../server/mod.ts";
import { runControl } from "./control.ts";
import { reply } from "./reply.ts";

const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string() });
const Image = z.object({ image: z.instanceof(Uint8Array) });

// The load test holds thousands of sessions open and idle: no first-message timeout.
const app = new App({ name: "bench", firstMessageTimeout: 0 })
  .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
  .endpoint("/image", { input: Image, output: Image }, (input) => ({ image: input.image }))
  .realtime("/realtime", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
  .realtime("/realtime-image", { input: Image, output: Image }, (input) => ({
    image: input.image,
  }))
  .websocket("/ws", async (socket) => {
    for await (const message of socket) socket.send(reply(message as Uint8Array));
  })
  .websocket("/echo", async (socket) => {
    for await (const message of socket) socket.send(message);
  })
  .webrtc("/webrtc", { endpoint: "/realtime", iceCandidates: "loopback" })
  .webrtc("/webrtc-image", { endpoint: "/realtime-image", iceCandidates: "loopback" })
  // The video-track row: each frame goes back as it came.
  .webrtc("/webrtc-video", {
    video: (frame) => frame,
    iceCandidates: "loopback",
    videoBitrate: { start: 2000, min: 1000 },
  });

const server = serve(app, { hostname: "127.0.0.1", port: 0, signals: false, onListen() {} });
await runControl(server.addr.port);
