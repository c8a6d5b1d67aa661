/**
 * Malformed WebSocket upgrades (issue 12, item 7): requests with `Upgrade: websocket` that
 * `Deno.upgradeWebSocket` would throw on (no `Sec-WebSocket-Key`, no `Connection: Upgrade`)
 * reached `onError` as 500s with stack traces. Each now gets a 400 (426 for a version other
 * than 13) with a JSON `detail`, and nothing reaches `onError` or stderr.
 *
 * @module
 */
import assert from "node:assert/strict";
import { realtime } from "../client/mod.ts";
import { App } from "../server/mod.ts";
import type { LogRecord } from "../server/middleware/log.ts";
import { listen, within } from "./_realtime_helpers.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Upgrade requests Deno refuses, each with the status rally answers. */
const SHAPES: { name: string; headers: string; status: number }[] = [
  {
    name: "no Sec-WebSocket-Key",
    headers: "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
    status: 400,
  },
  {
    name: "a key that is not 16 bytes in base64",
    headers:
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n",
    status: 400,
  },
  {
    name: "no Connection header",
    headers: `Upgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`,
    status: 400,
  },
  {
    name: "Connection without the Upgrade token",
    headers:
      `Upgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`,
    status: 400,
  },
  {
    name: "no Sec-WebSocket-Version",
    headers: `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n`,
    status: 400,
  },
  {
    name: "version 8",
    headers:
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 8\r\n`,
    status: 426,
  },
  {
    name: "an Upgrade header without the websocket token",
    headers: `Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n`,
    status: 426,
  },
];

/** Send one request by hand on a new connection; read the whole answer (the server closes). */
async function ask(
  port: number,
  path: string,
  headers: string,
): Promise<{ status: number; head: string; body: unknown }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await within(conn.read(buffer), "the answer");
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      const end = text.indexOf("\r\n\r\n");
      const length = Number(/^content-length:\s*(\d+)/im.exec(text)?.[1] ?? NaN);
      if (end >= 0 && text.length >= end + 4 + length) break;
    }
    const end = text.indexOf("\r\n\r\n");
    const head = text.slice(0, end);
    return { status: Number(head.split(" ")[1]), head, body: JSON.parse(text.slice(end + 4)) };
  } finally {
    conn.close();
  }
}

Deno.test("malformed upgrades get 400 or 426 with a JSON detail, and nothing in the log", async () => {
  const errors: unknown[] = [];
  const records: LogRecord[] = [];
  const app = new App({
    onError: (error) => errors.push(error),
    log: { level: "debug", sink: (record) => records.push(record) },
  })
    .realtime("/rt", { hello: false }, (input) => input)
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
  await using server = listen(app);
  const port = server.addr.port;
  await using good = await realtime<{ n: number }, { n: number }>(server.http, { path: "/rt" });
  const stderr: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => stderr.push(args);
  try {
    const count = 1_000;
    for (let i = 0; i < count; i++) {
      const shape = SHAPES[i % SHAPES.length];
      const answer = await ask(port, i % 2 ? "/rt" : "/ws", shape.headers);
      assert.equal(answer.status, shape.status, `${shape.name}: ${answer.head}`);
      const detail = (answer.body as { detail: unknown }).detail;
      assert.equal(typeof detail, "string", shape.name);
      if (shape.name === "version 8") assert.match(answer.head, /sec-websocket-version: 13/i);
      if (i % 100 === 0) {
        good.send({ n: i }); // a good client is answered during
        assert.deepEqual(await good.receive(), { n: i });
      }
    }
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(stderr, []);
  const logged = JSON.stringify(records);
  assert.doesNotMatch(logged, /stack|TypeError|\n\s+at /);
  assert.ok(records.some((record) => record.status === 400));
  good.send({ n: -1 });
  assert.deepEqual(await good.receive(), { n: -1 });
});
