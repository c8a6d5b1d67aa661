/**
 * `ws-floor`: bare Deno.serve + Deno.upgradeWebSocket. `/` answers msgpack `{ prompt }` with
 * `{ output }`; `/echo` sends every frame back unchanged (the raw binary floor).
 *
 * @module
 */
import { runControl } from "./control.ts";
import { reply } from "./reply.ts";

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  if (request.headers.get("upgrade") !== "websocket") return new Response(null, { status: 426 });
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  const echo = new URL(request.url).pathname === "/echo";
  socket.onmessage = echo
    ? (event) => socket.send(new Uint8Array(event.data))
    : (event) => socket.send(reply(event.data));
  return response;
});
await runControl(server.addr.port);
