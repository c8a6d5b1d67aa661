/**
 * `hono-ws`: Hono's `upgradeWebSocket` from "hono/deno", answering msgpack `{ prompt }` with
 * `{ output }`.
 *
 * @module
 */
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { runControl } from "./control.ts";
import { reply } from "./reply.ts";

const app = new Hono().get(
  "/",
  upgradeWebSocket(() => ({
    onMessage(event, socket) {
      socket.send(reply(event.data as ArrayBuffer));
    },
  })),
);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
await runControl(server.addr.port);
