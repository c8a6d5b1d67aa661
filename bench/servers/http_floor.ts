/**
 * `http-floor`: a bare Deno.serve handler that answers a JSON POST `{ prompt }` with
 * `{ output }`.
 *
 * @module
 */
import { runControl } from "./control.ts";

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
  const { prompt } = await request.json() as { prompt: string };
  return Response.json({ output: prompt });
});
await runControl(server.addr.port);
