import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, RealtimeError, wsConnect } from "../client/mod.ts";
import { END_OF_INPUT } from "../protocol.ts";
import { App } from "../server/mod.ts";
import { bareServer, codec, listen, Op, rawAccept, waitFor, within } from "./_realtime_helpers.ts";

/** Assert that `promise` rejects with a RealtimeError of `code`; returns the error. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RealtimeError> {
  const error = await within(promise.then(() => undefined, (error) => error), `a ${code} error`);
  assert.ok(error instanceof RealtimeError, `expected a RealtimeError, got ${error}`);
  assert.equal(error.code, code);
  return error;
}

/** A realtime app at `/rt`: `{prompt}` → `{output}`, "boom" throws, frames over 1 KiB refused. */
function promptApp(options: { sessionTimeout?: number; hello?: boolean } = {}) {
  const Input = z.object({ prompt: z.string() });
  return new App({ onError() {} }).realtime(
    "/rt",
    { input: Input, maxMessageBytes: 1024, ...options },
    (input) => {
      if (input.prompt === "boom") throw new Error("boom");
      return { output: input.prompt };
    },
  );
}

Deno.test("client receive() resolves with each output in the order inputs were sent", async () => {
  await using server = listen(promptApp());
  await using conn = await realtime(server.http, { path: "/rt" });
  for (let i = 0; i < 5; i++) conn.send({ prompt: `p${i}` });
  for (let i = 0; i < 5; i++) assert.deepEqual(await conn.receive(), { output: `p${i}` });
});

Deno.test("client receive() rejects with error frames in their place and the connection stays usable", async () => {
  // Without hello the client does not know the limit: the server refuses the large input.
  await using server = listen(promptApp({ hello: false }));
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ prompt: 1 });
  conn.send({ prompt: "boom" });
  conn.send({ prompt: "x".repeat(2000) });
  conn.send({ prompt: "still here" });
  const invalid = await rejectsWith(conn.receive(), "INVALID_INPUT");
  assert.match(invalid.reason, /^prompt: /);
  assert.deepEqual(invalid.issues?.[0].path, ["prompt"]);
  await rejectsWith(conn.receive(), "INTERNAL_ERROR");
  const large = await rejectsWith(conn.receive(), "MESSAGE_TOO_LARGE");
  assert.match(large.reason, /over the limit of 1024/);
  assert.deepEqual(await conn.receive(), { output: "still here" });
});

Deno.test("client receive() resolves undefined after TIMEOUT and the iterator ends", async () => {
  await using server = listen(promptApp({ sessionTimeout: 0.2 }));
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({ prompt: "only" });
  const outputs = [];
  for await (const output of conn) outputs.push(output);
  assert.deepEqual(outputs, [{ output: "only" }]);
  assert.equal(await conn.receive(), undefined);
  assert.throws(() => conn.send({ prompt: "late" }), RealtimeError);
});

Deno.test("client receive() rejects with SHUTTING_DOWN, then CONNECTION_CLOSED, when the server stops", async () => {
  const server = listen(promptApp());
  await using conn = await realtime(server.http, { path: "/rt" });
  const shutdown = server.shutdown();
  const error = await rejectsWith(conn.receive(), "SHUTTING_DOWN");
  assert.equal(error.retryable, true);
  assert.equal(error.unprocessed, 0);
  const closed = await rejectsWith(conn.receive(), "CONNECTION_CLOSED");
  assert.match(closed.reason, /1001/);
  await shutdown;
});

for (const code of [1001, 1011]) {
  Deno.test(`client receive() rejects with CONNECTION_CLOSED on close code ${code}`, async () => {
    const { server, url } = bareServer((socket) => socket.close(code, "bye"));
    try {
      await using conn = await realtime(url);
      const error = await rejectsWith(conn.receive(), "CONNECTION_CLOSED");
      assert.match(error.reason, new RegExp(`${code}`));
      await rejectsWith(conn.receive(), "CONNECTION_CLOSED");
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("client receive() rejects with CONNECTION_CLOSED when the connection drops (1006)", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connecting = realtime(`ws://127.0.0.1:${listener.addr.port}`);
  const { socket } = await rawAccept(listener);
  await using conn = await connecting;
  socket[Symbol.dispose](); // no close frame: the TCP connection just ends
  const error = await rejectsWith(conn.receive(), "CONNECTION_CLOSED");
  assert.match(error.reason, /1006/);
});

Deno.test("client never surfaces meta frames as outputs", async () => {
  const { server, url } = bareServer((socket) => {
    const hello = { maxMessageBytes: 1024, buffering: 2, maxBatchSize: 1, sessionTimeout: null };
    socket.send(JSON.stringify({ type: "x-fal-message", action: "hello", limits: hello }));
    socket.send(codec.encode({ n: 1 }));
    socket.send('{"type":"x-fal-message","action":"dropped","count":3}');
    socket.send('{"type":"x-fal-message","action":"timings","timing":0.01}');
    socket.send('{"type":"x-fal-message","action":"ping"}');
    socket.send(codec.encode({ n: 2 }));
    socket.close(1000);
  });
  try {
    await using conn = await realtime(url);
    const outputs = [];
    for await (const output of conn) outputs.push(output);
    assert.deepEqual(outputs, [{ n: 1 }, { n: 2 }]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("client close() resolves only once the socket has closed", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connecting = realtime(`ws://127.0.0.1:${listener.addr.port}`);
  const { socket } = await rawAccept(listener);
  using _socket = socket;
  const conn = await connecting;
  let resolved = false;
  const closing = conn.close().then(() => resolved = true);
  // The server has the close frame, so the client sent it: close() still waits for the reply.
  const frame = await within(socket.readFrame(), "the client's close frame");
  assert.equal(frame?.opcode, Op.close);
  assert.equal(resolved, false, "close() waits for the server's close frame");
  await socket.writeClose(1000);
  await within(closing, "close() to resolve");
  assert.equal(await conn.receive(), undefined);
});

Deno.test("client await using closes the connection at the end of the scope", async () => {
  const app = promptApp();
  await using server = listen(app);
  {
    await using conn = await realtime(server.http, { path: "/rt" });
    conn.send({ prompt: "hi" });
    assert.deepEqual(await conn.receive(), { output: "hi" });
    assert.equal(app.sessionCount, 1);
  }
  await waitFor(() => app.sessionCount === 0, "the server to see the close");
});

Deno.test("client send after close throws RealtimeError CONNECTION_CLOSED", async () => {
  await using server = listen(promptApp());
  const conn = await realtime(server.http, { path: "/rt" });
  await conn.close();
  const error = (() => {
    try {
      conn.send({ prompt: "late" });
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof RealtimeError);
  assert.equal(error.code, "CONNECTION_CLOSED");
  assert.equal(await conn.receive(), undefined);
});

Deno.test("client connecting to a closed port rejects with CONNECTION_CLOSED", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  await rejectsWith(realtime(`http://127.0.0.1:${port}`), "CONNECTION_CLOSED");
  await rejectsWith(wsConnect(`http://127.0.0.1:${port}`), "CONNECTION_CLOSED");
});

Deno.test("client sends token as fal_jwt_token and maxBuffering as max_buffering", async () => {
  const requests: URL[] = [];
  const { server, url } = bareServer((socket, request) => {
    requests.push(new URL(request.url));
    socket.close(1000);
  });
  try {
    const http = url.replace("ws:", "http:");
    const conn = await realtime(http, { path: "/rt", token: "secret", maxBuffering: 3 });
    await conn.close();
    const ws = await wsConnect(http, { path: "/raw", token: "other" });
    await ws.close();
    await waitFor(() => requests.length === 2, "both upgrade requests");
    assert.equal(requests[0].pathname, "/rt");
    assert.equal(requests[0].searchParams.get("fal_jwt_token"), "secret");
    assert.equal(requests[0].searchParams.get("max_buffering"), "3");
    assert.equal(requests[1].pathname, "/raw");
    assert.equal(requests[1].searchParams.get("fal_jwt_token"), "other");
    assert.equal(requests[1].searchParams.has("max_buffering"), false);
  } finally {
    await server.shutdown();
  }
});

Deno.test("client end() sends the end-of-input message", async () => {
  const received: unknown[] = [];
  const { server, url } = bareServer((socket) => {
    socket.onmessage = (event) => {
      received.push(event.data);
      if (event.data === END_OF_INPUT) socket.close(1000);
    };
  });
  try {
    await using conn = await realtime(url);
    conn.send({ n: 1 });
    conn.end();
    assert.equal(await conn.receive(), undefined);
    assert.equal(received.length, 2);
    assert.deepEqual(codec.decode(received[0] as ArrayBuffer), { n: 1 });
    assert.equal(received[1], END_OF_INPUT);
  } finally {
    await server.shutdown();
  }
});

Deno.test("wsConnect sends and receives text and bytes, iterates, and closes", async () => {
  const app = new App().websocket("/echo", async (socket) => {
    const first = await socket.receive();
    socket.send(first!);
    const bytes = await socket.receiveBytes();
    socket.send(bytes.toReversed());
    for (let i = 0; i < 3; i++) socket.send(`msg-${i}`);
  });
  await using server = listen(app);
  await using ws = await wsConnect(server.http, { path: "/echo" });
  ws.send("hello");
  assert.equal(await ws.receive(), "hello");
  ws.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await ws.receive(), new Uint8Array([3, 2, 1]));
  const rest = [];
  for await (const message of ws) rest.push(message);
  assert.deepEqual(rest, ["msg-0", "msg-1", "msg-2"]);
  assert.equal(await ws.receive(), undefined);
  await ws.close();
});

Deno.test("wsConnect close() closes with the given code", async () => {
  const codes: number[] = [];
  const app = new App().websocket("/wait", async (socket) => {
    await socket.receive();
  });
  await using server = listen(app);
  const { server: bare, url } = bareServer((socket) => {
    socket.onclose = (event) => codes.push(event.code);
  });
  try {
    const ws = await wsConnect(url);
    await ws.close(4001, "done");
    await waitFor(() => codes.length === 1, "the server to see the close");
    assert.deepEqual(codes, [4001]);
    const other = await wsConnect(server.http, { path: "/wait" });
    await other.close();
    await waitFor(() => app.sessionCount === 0, "the session to end");
  } finally {
    await bare.shutdown();
  }
});
