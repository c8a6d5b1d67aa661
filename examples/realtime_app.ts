/**
 * The seed's app, ported to rally: `POST /` and realtime `/realtime` answer `{output: prompt}`;
 * raw `/echo` receives one text message, sends `msg-0`, `msg-1`, `msg-2`, then closes.
 *
 * Serve it with `deno task example` (rally's CLI), or `deno serve -A examples/realtime_app.ts`.
 *
 * @module
 */
import { App } from "../server/mod.ts";
import { z } from "zod";

const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string() });

const app: App = new App({ name: "realtime-app" })
  .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
  .realtime("/realtime", { input: Input, output: Output, buffering: 2 }, (input) => ({
    output: input.prompt,
  }))
  .websocket("/echo", async (socket) => {
    await socket.receiveText();
    for (let i = 0; i < 3; i++) socket.send(`msg-${i}`);
    socket.close();
  });

export default app;
