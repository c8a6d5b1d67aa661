/**
 * The seed's app, ported to rally line for line in the class form: `POST /` and realtime
 * `/realtime` answer `{output: prompt}`; raw `/echo` receives one text message, sends `msg-0`,
 * `msg-1`, `msg-2`, then closes. The app is named `realtime-app` after its class, as in fal.
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
  @App.endpoint("/", { input: Input, output: Output })
  generate(input: Input): Output {
    return { output: input.prompt };
  }

  @App.realtime("/realtime", { input: Input, output: Output, buffering: 2 })
  generateRt(input: Input): Output {
    return { output: input.prompt };
  }

  @App.websocket("/echo")
  async echo(websocket: WebSocketSession): Promise<void> {
    await websocket.receiveText();
    for (let i = 0; i < 3; i++) websocket.send(`msg-${i}`);
    websocket.close();
  }
}

export default new RealtimeApp();
