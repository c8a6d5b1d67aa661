/**
 * The seed's app, ported to rally line for line in the class form: `POST /` and realtime
 * `/realtime` answer `{output: prompt}`; raw `/echo` receives one text message `msg`, sends
 * `msg-0`, `msg-1`, `msg-2` (so `"Hello, world!"` gets `"Hello, world!-0"` ...), then closes.
 * `keepAlive = 60`: under `serve()` the app stops after 60 s with no request and no open socket,
 * as fal's `keep_alive = 60` lets a runner go. The app is named `realtime-app` after its class.
 *
 * Serve it with `deno task example` (rally's CLI), or `deno serve -A examples/realtime_app.ts`.
 *
 * @module
 */
import { App, type WebSocketSession } from "../server/mod.ts";
import { z } from "zod";

const Input = z.object({ prompt: z.string() });
type Input = z.infer<typeof Input>;
const Output = z.object({ output: z.string() });
type Output = z.infer<typeof Output>;

class RealtimeApp extends App {
  override keepAlive = 60;

  @App.endpoint("/", { input: Input, output: Output })
  generate(input: Input): Output {
    return { output: input.prompt };
  }

  @App.realtime("/realtime", { input: Input, output: Output })
  generateRt(input: Input): Output {
    return { output: input.prompt };
  }

  @App.websocket("/echo")
  async echo(websocket: WebSocketSession): Promise<void> {
    const msg = await websocket.receiveText();
    for (let idx = 0; idx < 3; idx++) websocket.send(msg + `-${idx}`);
    websocket.close();
  }
}

export default new RealtimeApp();
