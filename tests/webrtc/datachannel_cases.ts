/**
 * The WebRTC transport: signaling over a WebSocket, realtime over a DataChannel, Deno to Deno on
 * loopback with libwebrtc (npm:@roamhq/wrtc) on both sides: the client's default peer in Deno.
 * The server checks and offers loopback candidates only (`iceCandidates: "loopback"`).
 */
import assert from "node:assert/strict";
import { type TestCandidate, type TestChannel, type TestPeer, wrtc } from "./_wrtc.ts";
import { z } from "zod";
import {
  DATA_CHANNEL_MAX_BYTES,
  frameHeader,
  readFrameHeader,
} from "../../internal/channel_frame.ts";
import { connect, realtime, RealtimeError } from "../../client/mod.ts";
import { Inbox } from "../../internal/inbox.ts";
import { App, type Context } from "../../server/mod.ts";
import { codec, listen, waitFor, within } from "../_realtime_helpers.ts";
import { delay } from "../_realtime_helpers.ts";

/** The client options of these tests: WebRTC with the default peer (libwebrtc in Deno). */
const CLIENT = { transport: "webrtc" } as const;

/** The server's peer on loopback only. */
const LOOPBACK = { iceCandidates: "loopback" } as const;

const webrtcTest = Deno.test;

const Input = z.object({ n: z.number() });

/** An App with a doubling realtime route and its WebRTC endpoint at `/webrtc`. */
function doubler(
  options: { maxMessageBytes?: number; sessionTimeout?: number; ms?: number } = {},
): { app: App; contexts: Context[] } {
  const contexts: Context[] = [];
  const app = new App()
    .realtime(
      "/realtime",
      { input: Input, sessionTimeout: options.sessionTimeout },
      async (input, ctx) => {
        contexts.push(ctx);
        if (options.ms) await delay(options.ms);
        return { n: input.n * 2 };
      },
    )
    .realtime("/bytes", {}, (input) => ({ size: sizeOf((input as { data?: unknown }).data) }))
    .webrtc("/webrtc", {
      endpoint: "/realtime",
      ...LOOPBACK,
      maxMessageBytes: options.maxMessageBytes,
    })
    .webrtc("/webrtc-bytes", { endpoint: "/bytes", ...LOOPBACK });
  return { app, contexts };
}

function sizeOf(data: unknown): number {
  return data instanceof Uint8Array ? data.length : -1;
}

webrtcTest("webrtc carries many inputs and their outputs in order, like a WebSocket", async () => {
  const { app } = doubler();
  await using server = listen(app);
  await using conn = await within(
    realtime<{ n: unknown }, { n: number }>(server.http, CLIENT),
    "connecting over WebRTC",
  );
  for (let i = 0; i < 5; i++) {
    conn.send({ n: i });
    assert.deepEqual(await within(conn.receive(), "a round trip"), { n: 2 * i });
  }
  const count = 300; // past 255: seq takes more than one byte
  for (let i = 0; i < count; i++) conn.send({ n: i });
  for (let i = 0; i < count; i++) {
    assert.deepEqual(await within(conn.receive(), `output ${i}`), { n: 2 * i });
  }
  conn.send({ n: "two" });
  await assert.rejects(conn.receive(), (error: RealtimeError) => {
    assert.equal(error.code, "INVALID_INPUT");
    assert.ok(error.issues?.length);
    return true;
  });
  conn.send({ n: 21 });
  assert.deepEqual(await within(conn.receive(), "the output after an invalid input"), { n: 42 });
});

webrtcTest("webrtc carries inputs and outputs of up to 256 KiB, framing included", async () => {
  const { app } = doubler();
  await using server = listen(app);
  await using conn = await within(
    realtime<{ data: Uint8Array }, { size: number }>(server.http, {
      ...CLIENT,
      path: "/webrtc-bytes",
    }),
    "connecting over WebRTC",
  );
  const big = DATA_CHANNEL_MAX_BYTES - 64;
  conn.send({ data: new Uint8Array(big) });
  assert.deepEqual(await within(conn.receive(), "the large input's output"), { size: big });
  assert.throws(() => conn.send({ data: new Uint8Array(DATA_CHANNEL_MAX_BYTES) }), (error) => {
    assert.ok(error instanceof RealtimeError);
    assert.equal(error.code, "MESSAGE_TOO_LARGE");
    return true;
  });
  conn.send({ data: new Uint8Array(3) });
  assert.deepEqual(await within(conn.receive(), "the output after a refusal"), { size: 3 });
});

webrtcTest(
  "an unordered webrtc channel is latest-wins: stale inputs drop, outputs never go back",
  async () => {
    const { app, contexts } = doubler({ ms: 40 });
    await using server = listen(app);
    await using conn = await within(
      realtime<{ n: number }, { n: number }>(server.http, { ...CLIENT, ordered: false }),
      "connecting over WebRTC",
    );
    // The first input is in the handler before the burst: it is answered, and of the 39 that
    // arrive while it runs (in one batch or in several), the newest is answered last.
    const burst = 40;
    conn.send({ n: 0 });
    await waitFor(() => contexts.length === 1, "the handler to take the first input");
    for (let i = 1; i < burst; i++) conn.send({ n: i });
    const outputs: number[] = [];
    while (outputs.at(-1) !== 2 * (burst - 1)) {
      const output = await within(conn.receive(), "the newest input's output");
      outputs.push(output!.n);
    }
    assert.ok(outputs.length < burst, `${outputs.length} outputs for ${burst} inputs`);
    assert.equal(outputs[0], 0, "the input in the handler is answered");
    for (let i = 1; i < outputs.length; i++) assert.ok(outputs[i] > outputs[i - 1], `${outputs}`);
    assert.equal(contexts.length, outputs.length);
  },
);

webrtcTest("connect() sends and receives over webrtc, callback style", async () => {
  const { app } = doubler();
  await using server = listen(app);
  const results = new Inbox<{ n: number }>();
  const errors: RealtimeError[] = [];
  const opened = Promise.withResolvers<void>();
  const handle = connect<{ n: number }, { n: number }>(server.http, {
    ...CLIENT,
    onResult: (result) => results.push(result),
    onError: (error) => errors.push(error),
    onOpen: () => opened.resolve(),
  });
  try {
    handle.send({ n: 1 }); // waits for the connection
    await within(opened.promise, "connect() to open");
    assert.deepEqual(await within(results.next(), "the first result"), { n: 2 });
    handle.send({ n: 2 });
    assert.deepEqual(await within(results.next(), "the second result"), { n: 4 });
    assert.deepEqual(errors, []);
  } finally {
    handle.close();
  }
  await waitFor(() => app.sessionCount === 0, "the server session to end");
});

webrtcTest("closing the client ends the server session and its peer", async () => {
  const { app, contexts } = doubler();
  await using server = listen(app);
  const conn = await within(realtime<{ n: number }>(server.http, CLIENT), "connecting");
  conn.send({ n: 1 });
  await within(conn.receive(), "a round trip");
  assert.equal(app.sessionCount, 1);
  await within(conn.close(), "the client to close");
  await within(
    new Promise<void>((resolve) => contexts[0].signal.addEventListener("abort", () => resolve())),
    "the handler's signal to abort",
  );
  await waitFor(() => app.sessionCount === 0, "the server session to end");
});

webrtcTest("a server session that times out ends the client's connection normally", async () => {
  const { app } = doubler({ sessionTimeout: 0.3 });
  await using server = listen(app);
  await using conn = await within(realtime<{ n: number }>(server.http, CLIENT), "connecting");
  conn.send({ n: 1 });
  assert.deepEqual(await within(conn.receive(), "a round trip"), { n: 2 });
  assert.equal(await within(conn.receive(), "the end after TIMEOUT"), undefined);
  await waitFor(() => app.sessionCount === 0, "the server session to end");
});

webrtcTest("shutdown drains a webrtc session, then SHUTTING_DOWN and close 1001", async () => {
  const { app, contexts } = doubler({ ms: 100 });
  const server = listen(app);
  const conn = await within(realtime<{ n: number }>(server.http, CLIENT), "connecting");
  await using signaling = await Signaling.open(`${server.ws}/webrtc`); // still negotiating
  assert.deepEqual(await signaling.next(), { type: "ready" });
  conn.send({ n: 1 });
  await waitFor(() => contexts.length === 1, "the handler to start");
  assert.equal(app.sessionCount, 2);
  const stopped = server.shutdown();
  assert.deepEqual(await within(conn.receive(), "the output in hand"), { n: 2 });
  await assert.rejects(within(conn.receive(), "the shutdown"), (error: RealtimeError) => {
    assert.equal(error.code, "SHUTTING_DOWN");
    return true;
  });
  await assert.rejects(within(conn.receive(), "the close"), (error: RealtimeError) => {
    assert.equal(error.code, "CONNECTION_CLOSED");
    assert.match(error.reason, /1001/);
    return true;
  });
  assert.match(String((await signaling.next()).error), /shutting down/);
  await within(stopped, "the server to stop");
  await conn.close();
});

webrtcTest("the server serves WebSockets while webrtc sessions are open", async () => {
  const { app } = doubler();
  await using server = listen(app);
  await using rtc = await within(realtime<{ n: number }>(server.http, CLIENT), "webrtc");
  await using ws = await within(realtime<{ n: number }>(server.http), "websocket");
  rtc.send({ n: 1 });
  ws.send({ n: 2 });
  assert.deepEqual(await within(ws.receive(), "the WebSocket output"), { n: 4 });
  assert.deepEqual(await within(rtc.receive(), "the DataChannel output"), { n: 2 });
  assert.equal(app.sessionCount, 2);
});

webrtcTest(
  "malformed DataChannel messages get INVALID_INPUT and the session serves on",
  async () => {
    const { app } = doubler({ maxMessageBytes: 100 });
    await using server = listen(app);
    await using peer = await RawPeer.open(`${server.ws}/webrtc`);
    const hello = await peer.next();
    assert.equal(typeof hello, "string");
    assert.equal(JSON.parse(hello as string).limits.maxMessageBytes, 100);
    const payload = codec.encode({ n: 5 });
    for (
      const bad of [
        payload, // not framed
        new Uint8Array([0x92, 0xa1, 0x61, ...payload]), // seq is a string
        new Uint8Array([0x92, 0x01]), // no payload
        new Uint8Array([0x93, 0x01, ...payload, 0xc0]), // three elements
      ]
    ) {
      peer.channel.send(bad);
      const error = JSON.parse(await peer.next() as string);
      assert.equal(error.type, "x-fal-error");
      assert.equal(error.error, "INVALID_INPUT");
    }
    // A framed payload that is not msgpack: the session's own INVALID_INPUT, in its turn.
    peer.channel.send(new Uint8Array([0x92, 0x00, 0xc1]));
    assert.equal(JSON.parse(await peer.next() as string).error, "INVALID_INPUT");
    // Over the WebRTC endpoint's maxMessageBytes: refused, not decoded.
    peer.channel.send(
      new Uint8Array([...frameHeader(1), ...codec.encode({ n: 1, pad: "x".repeat(200) })]),
    );
    assert.equal(JSON.parse(await peer.next() as string).error, "MESSAGE_TOO_LARGE");
    peer.channel.send(new Uint8Array([...frameHeader(2), ...payload]));
    const output = await peer.next();
    assert.ok(output instanceof Uint8Array);
    const header = readFrameHeader(output)!;
    assert.equal(header.seq, 0); // the server's first binary message
    assert.deepEqual(codec.decode(output.subarray(header.start)), { n: 10 });
  },
);

webrtcTest("signaling answers bad messages with an error and stays open", async () => {
  const { app } = doubler();
  await using server = listen(app);
  await using signaling = await Signaling.open(`${server.ws}/webrtc`);
  assert.deepEqual(await signaling.next(), { type: "ready" });
  signaling.ws.send("not msgpack");
  assert.equal((await signaling.next()).type, "error");
  signaling.send({ kind: "offer" });
  assert.equal((await signaling.next()).type, "error");
  signaling.send({ type: "launch" });
  assert.match(String((await signaling.next()).error), /unknown signaling message type/);
  signaling.send({ type: "icecandidate", candidate: { candidate: 7 } });
  assert.match(String((await signaling.next()).error), /candidate.candidate/);
  signaling.send({ type: "offer", sdp: "v=0 this is not SDP" });
  const refused = await signaling.next();
  assert.equal(refused.type, "error");
  assert.equal(typeof refused.error, "string");
  signaling.send({ type: "offer" });
  assert.match(String((await signaling.next()).error), /sdp/);
  assert.equal(signaling.ws.readyState, WebSocket.OPEN);
});

Deno.test("webrtc() checks its options", () => {
  const app = new App().realtime("/realtime", {}, (input) => input);
  assert.throws(() => app.webrtc("/a", { endpoint: "/nope" }), TypeError);
  assert.throws(
    () => app.webrtc("/b", { endpoint: "/realtime", maxMessageBytes: DATA_CHANNEL_MAX_BYTES + 1 }),
    RangeError,
  );
  app.webrtc("/c", { endpoint: "/realtime" });
  const protocol = app.openapi().paths["/c"]["x-fal-protocol"] as {
    type: string;
    endpoint: string;
  };
  assert.deepEqual([protocol.type, protocol.endpoint], ["webrtc", "/realtime"]);
});

/** A signaling WebSocket spoken by hand: msgpack messages in and out. */
class Signaling implements AsyncDisposable {
  readonly ws: WebSocket;
  #inbox = new Inbox<Record<string, unknown>>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event) => this.#inbox.push(codec.decode(event.data) as Record<string, unknown>);
    ws.onclose = () => this.#inbox.end();
  }

  static async open(url: string): Promise<Signaling> {
    const ws = new WebSocket(url);
    const signaling = new Signaling(ws);
    await within(new Promise((resolve) => ws.onopen = resolve), "the signaling socket to open");
    return signaling;
  }

  send(message: unknown): void {
    this.ws.send(codec.encode(message));
  }

  async next(): Promise<Record<string, unknown>> {
    const message = await within(this.#inbox.next(), "the next signaling message");
    if (message === undefined) throw new Error("the signaling socket closed");
    return message;
  }

  nextOrEnd(): Promise<Record<string, unknown> | undefined> {
    return this.#inbox.next();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.ws.addEventListener("close", resolve));
    this.ws.close();
    await within(closed, "the signaling socket to close");
  }
}

/** A libwebrtc peer negotiated by hand, whose DataChannel messages are read raw. */
class RawPeer implements AsyncDisposable {
  readonly signaling: Signaling;
  readonly pc: TestPeer;
  readonly channel: TestChannel;
  #inbox = new Inbox<string | Uint8Array>();

  private constructor(signaling: Signaling) {
    this.signaling = signaling;
    this.pc = new wrtc.RTCPeerConnection({});
    this.channel = this.pc.createDataChannel("rally");
    this.channel.binaryType = "arraybuffer";
    this.channel.onmessage = (event) =>
      this.#inbox.push(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  }

  static async open(url: string): Promise<RawPeer> {
    const peer = new RawPeer(await Signaling.open(url));
    const { signaling, pc, channel } = peer;
    assert.deepEqual(await signaling.next(), { type: "ready" });
    await pc.setLocalDescription(await pc.createOffer());
    signaling.send({ type: "offer", sdp: pc.localDescription!.sdp });
    const opened = new Promise<void>((resolve) => channel.onopen = () => resolve());
    const answer = await signaling.next();
    assert.equal(answer.type, "answer");
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      const { sdpMid, sdpMLineIndex } = candidate;
      signaling.send({
        type: "icecandidate",
        candidate: { candidate: candidate.candidate, sdpMid, sdpMLineIndex },
      });
    };
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp as string });
    (async () => {
      for (;;) {
        const message = await signaling.nextOrEnd();
        if (!message) return;
        if (message.type === "icecandidate" && message.candidate) {
          await pc.addIceCandidate(message.candidate as TestCandidate).catch(() => {});
        }
      }
    })();
    await within(opened, "the DataChannel to open");
    return peer;
  }

  async next(): Promise<string | Uint8Array> {
    const message = await within(this.#inbox.next(), "the next DataChannel message");
    if (message === undefined) throw new Error("the DataChannel closed");
    return message;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.channel.close();
    this.pc.close();
    await this.signaling[Symbol.asyncDispose]();
  }
}
