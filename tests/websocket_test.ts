import assert from "node:assert/strict";
import { RealtimeError } from "../protocol.ts";
import { App, type WebSocketMessage } from "../server/mod.ts";
import { aborted, codec, listen, Peer, waitFor, within } from "./_realtime_helpers.ts";

Deno.test("websocket handler receives text, sends, and closes with 1000 when it returns", async () => {
  const app = new App().websocket("/echo", async (socket) => {
    const text = await socket.receiveText();
    for (let i = 0; i < 3; i++) socket.send(`${text}-${i}`);
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/echo`);
  peer.socket.send("msg");
  assert.equal(await peer.next(), "msg-0");
  assert.equal(await peer.next(), "msg-1");
  assert.equal(await peer.next(), "msg-2");
  assert.equal((await peer.closeEvent()).code, 1000);
  await waitFor(() => app.sessionCount === 0, "the session to end");
});

Deno.test("websocket receiveBytes gives a Uint8Array and send of bytes is a binary frame", async () => {
  const app = new App().websocket("/bytes", async (socket) => {
    const bytes = await socket.receiveBytes();
    assert.ok(bytes instanceof Uint8Array);
    socket.send(bytes.toReversed());
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/bytes`);
  peer.socket.send(new Uint8Array([1, 2, 3]));
  const frame = await peer.next();
  assert.ok(frame instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(frame)], [3, 2, 1]);
  assert.equal((await peer.closeEvent()).code, 1000);
});

Deno.test("websocket receive gives text or bytes, then undefined once the peer closed", async () => {
  const received: (WebSocketMessage | undefined)[] = [];
  let afterClose: unknown;
  const app = new App().websocket("/recv", async (socket) => {
    for (let i = 0; i < 3; i++) received.push(await socket.receive());
    afterClose = await socket.receiveText().catch((error) => error);
  });
  await using server = listen(app);
  const peer = await Peer.open(`${server.ws}/recv`);
  peer.socket.send("text");
  peer.socket.send(new Uint8Array([7]));
  await waitFor(() => received.length === 2, "two messages");
  await peer.close();
  await waitFor(() => afterClose !== undefined, "the handler to finish");
  assert.deepEqual(received, ["text", new Uint8Array([7]), undefined]);
  assert.ok(afterClose instanceof RealtimeError);
  assert.equal(afterClose.code, "CONNECTION_CLOSED");
});

Deno.test("websocket async iteration yields each message until the peer closes", async () => {
  const seen: WebSocketMessage[] = [];
  let finished = false;
  const app = new App().websocket("/iterate", async (socket) => {
    for await (const message of socket) {
      seen.push(message);
      socket.send(message);
    }
    finished = true;
  });
  await using server = listen(app);
  const peer = await Peer.open(`${server.ws}/iterate`);
  for (const message of ["a", "b", "c"]) {
    peer.socket.send(message);
    assert.equal(await peer.next(), message);
  }
  await peer.close();
  await waitFor(() => finished, "the loop to end");
  assert.deepEqual(seen, ["a", "b", "c"]);
});

Deno.test("websocket signal aborts when the peer disconnects and the session is forgotten", async () => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => started = resolve);
  let signalAborted = false;
  let ctxAborted = false;
  const app = new App().websocket("/wait", async (socket, ctx) => {
    started();
    await aborted(socket.signal);
    signalAborted = socket.signal.aborted;
    ctxAborted = ctx.signal.aborted;
  });
  await using server = listen(app);
  const peer = await Peer.open(`${server.ws}/wait`);
  await within(running, "the handler to start");
  assert.equal(app.sessionCount, 1);
  await peer.close();
  await waitFor(() => signalAborted, "the signal to abort");
  assert.ok(ctxAborted);
  await waitFor(() => app.sessionCount === 0, "the session to be forgotten");
});

Deno.test("websocket handler that throws closes the socket with 1011 and reports the error", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) }).websocket("/boom", async (s) => {
    await s.receive();
    throw new Error("handler broke");
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/boom`);
  peer.socket.send("go");
  assert.equal((await peer.closeEvent()).code, 1011);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "handler broke");
});

Deno.test("websocket receiveText on a binary message and receiveBytes on text throw TypeError", async () => {
  const app = new App().websocket("/types", async (socket) => {
    for (const receive of [() => socket.receiveText(), () => socket.receiveBytes()]) {
      const error = await receive().catch((error) => error);
      socket.send(error instanceof TypeError ? `TypeError: ${error.message}` : "no error");
    }
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/types`);
  peer.socket.send(new Uint8Array([1]));
  peer.socket.send("text");
  assert.equal(await peer.next(), "TypeError: Expected a text message, got binary");
  assert.equal(await peer.next(), "TypeError: Expected a binary message, got text");
});

Deno.test("websocket closes with 1009 on a frame over maxMessageBytes", async () => {
  const received: unknown[] = [];
  const app = new App().websocket("/small", { maxMessageBytes: 100 }, async (socket) => {
    for await (const message of socket) received.push(message);
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/small`);
  peer.socket.send(new Uint8Array(100));
  peer.socket.send(new Uint8Array(101));
  const event = await peer.closeEvent();
  assert.equal(event.code, 1009);
  assert.deepEqual(received, [new Uint8Array(100)]);
});

Deno.test("websocket closes with 1008 when unread messages pass maxPendingBytes", async () => {
  const app = new App().websocket("/unread", { maxPendingBytes: 250 }, async (socket) => {
    await aborted(socket.signal); // never reads
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/unread`);
  for (let i = 0; i < 3; i++) peer.socket.send(new Uint8Array(100));
  assert.equal((await peer.closeEvent()).code, 1008);
});

Deno.test("websocket close from the handler sends its code and reason", async () => {
  const app = new App().websocket("/bye", (socket) => {
    socket.close(4000, "see you");
  });
  await using server = listen(app);
  await using peer = await Peer.open(`${server.ws}/bye`);
  const event = await peer.closeEvent();
  assert.equal(event.code, 4000);
  assert.equal(event.reason, "see you");
});

Deno.test("websocket endpoint answers a plain GET with 426", async () => {
  const app = new App().websocket("/echo", () => {});
  await using server = listen(app);
  const response = await fetch(`${server.http}/echo`);
  assert.equal(response.status, 426);
  assert.match((await response.json()).detail, /WebSocket/);
});

Deno.test("a session's handler reads its upgrade request's URL and headers after the upgrade", async () => {
  // Deno's upgraded request throws "Request closed" on a header read: ctx.request is a copy.
  const seen = (ctx: { request: Request }) => {
    const url = new URL(ctx.request.url);
    return `${url.pathname}${url.search} ${ctx.request.headers.get("x-team")}`;
  };
  const paths: unknown[] = [];
  const app = new App({ log: { sink: (record) => paths.push(record.path) } })
    .websocket("/ws", async (socket, ctx) => {
      await socket.receive(); // well after the upgrade
      socket.send(seen(ctx));
    })
    .realtime("/rt", { hello: false }, (_input, ctx) => seen(ctx));
  await using server = listen(app);
  const ask = async (path: string, frame: string | Uint8Array) => {
    const socket = new WebSocket(`${server.ws}${path}`, { headers: { "x-team": "blue" } });
    socket.binaryType = "arraybuffer";
    const answer = new Promise<unknown>((resolve) => socket.onmessage = (e) => resolve(e.data));
    await new Promise((resolve) => socket.onopen = resolve);
    socket.send(frame);
    const data = await answer;
    const closed = new Promise((resolve) => socket.onclose = resolve);
    socket.close();
    await closed;
    return data;
  };
  assert.equal(await ask("/ws?k=1", "hi"), "/ws?k=1 blue");
  const frame = await ask("/rt?k=2", codec.encode({ n: 1 })) as ArrayBuffer;
  assert.equal(codec.decode(new Uint8Array(frame)), "/rt?k=2 blue");
  await waitFor(() => app.sessionCount === 0, "the sessions to end");
  assert.ok(paths.includes("/ws") && paths.includes("/rt"), `the log's paths: ${paths}`);
});
