// Parity of `testClient()` with a real port for rally's client functions: the same calls (run,
// stream, realtime, wsConnect) against the same App, once by a real port's URL and once by a
// test client's URL, resolve and throw alike.
import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, RealtimeError, run, stream, wsConnect } from "../client/mod.ts";
import { App } from "../server/mod.ts";
import { inMemory } from "./_memory.ts";
import { listen } from "./_realtime_helpers.ts";

const N = z.object({ n: z.number() });

function socketBase(url: string): string {
  return url.replace(/^http/, "ws");
}

/** rally's clients against an App, by URL: what they resolve to or throw. */
async function clientResults(url: string): Promise<unknown[]> {
  const results: unknown[] = [];
  const settle = async (promise: Promise<unknown>) => {
    try {
      results.push(await promise);
    } catch (error) {
      results.push(
        error instanceof RealtimeError
          ? { realtimeError: error.code, reason: error.reason.replace(socketBase(url), "BASE") }
          : { error: String(error) },
      );
    }
  };
  await settle(run(url, { path: "/", input: { n: 1 } }));
  await settle(run(url, { path: "/", input: { n: "x" } }));
  await settle(run(url, { path: "/nope" }));
  await settle(Array.fromAsync(stream(url, { path: "/count", input: { n: 3 } })));
  {
    await using conn = await realtime(url, { path: "/rt" });
    conn.send({ n: 5 });
    await settle(conn.receive());
    conn.send({ n: "x" });
    await settle(conn.receive());
  }
  await settle(realtime(url, { path: "/missing" }).then((conn) => conn.close()));
  {
    await using ws = await wsConnect(url, { path: "/echo" });
    ws.send("text");
    ws.send(new Uint8Array([1, 2]));
    await settle(ws.receive());
    await settle(ws.receive());
    await settle(ws.receive()); // the handler returns: closed, undefined
  }
  return results;
}

Deno.test("parity, real port and in memory: rally's client functions give the same results", async () => {
  const makeApp = () =>
    new App({ onError() {} })
      .endpoint("/", { input: N }, (input) => ({ doubled: input.n * 2 }))
      .stream("/count", { input: N }, async function* (input) {
        for (let i = 0; i < input.n; i++) yield { i };
      })
      .realtime("/rt", { input: N }, (input) => ({ n: input.n + 1 }))
      .websocket("/echo", async (socket) => {
        for (let i = 0; i < 2; i++) socket.send((await socket.receive())!);
      });
  let real: unknown[];
  {
    await using served = listen(makeApp());
    real = await clientResults(served.http);
  }
  let memory: unknown[];
  {
    await using served = inMemory(makeApp());
    memory = await clientResults(served.http);
  }
  assert.deepEqual(memory, real);
  assert.deepEqual(real.slice(0, 5), [
    { doubled: 2 },
    {
      error:
        'HttpError: HTTP 422: [{"loc":["body","n"],"msg":"Invalid input: expected number, received string","type":"value_error"}]',
    },
    { error: "HttpError: HTTP 404: Path /nope not found" },
    [{ i: 0 }, { i: 1 }, { i: 2 }],
    { n: 6 },
  ]);
  assert.equal((real[5] as { realtimeError: string }).realtimeError, "INVALID_INPUT");
  assert.equal((real[6] as { realtimeError: string }).realtimeError, "CONNECTION_CLOSED");
  assert.deepEqual(real.slice(7), ["text", new Uint8Array([1, 2]), undefined]);
});
