/**
 * Calls the example app's three endpoints the way the seed's client snippets do.
 *
 * Start the app first (`deno task example`), then: `deno run -A examples/client.ts [URL]`.
 *
 * @module
 */
import { realtime, run, wsConnect } from "../client/mod.ts";

const url = Deno.args[0] ?? `http://127.0.0.1:${Deno.env.get("PORT") ?? 8000}`;

// HTTP: one request, one response.
console.log("http:", await run(url, { path: "/", input: { prompt: "Hello, world!" } }));

// Realtime: many inputs and outputs over one connection.
{
  await using conn = await realtime(url, { path: "/realtime" });
  for (let i = 0; i < 3; i++) {
    conn.send({ prompt: `Hello, world! #${i}` });
    console.log("realtime:", await conn.receive());
  }
}

// Raw WebSocket: one text message in, three out, then the server closes.
{
  await using ws = await wsConnect(url, { path: "/echo" });
  ws.send("Hello, world!");
  for await (const message of ws) console.log("websocket:", message);
}
