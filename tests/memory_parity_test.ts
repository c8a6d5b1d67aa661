// Parity of `testClient()` with a real port: one set of realtime scenarios, each run twice on a
// fresh App, once over a real `Deno.serve` port and real WebSockets and once in memory; both
// runs must give the same frames (hello, meta, outputs, error frames) and the same close code,
// and those must be the expected ones. (memory_parity_client_test.ts does the same for rally's
// client functions.)
import assert from "node:assert/strict";
import { z } from "zod";
import { END_OF_INPUT, TIMEOUT_REASON } from "../protocol.ts";
import { App } from "../server/mod.ts";
import { testClient } from "../testing/mod.ts";
import { codec, delay, listen, within } from "./_realtime_helpers.ts";

/** How a scenario reaches its App. */
interface Transport extends AsyncDisposable {
  /** The base URL for rally's client functions. */
  url: string;
  /** A client WebSocket to a path. */
  socket(path: string): WebSocket;
  /** Stop the App: sessions drain, then `SHUTTING_DOWN` and 1001. */
  shutdown(): Promise<void>;
}

const GRACE_MS = 200;

function overPort(app: App): Transport {
  const server = listen(app, GRACE_MS);
  return {
    url: server.http,
    socket: (path) => new WebSocket(`${server.ws}${path}`),
    shutdown: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function inMemory(app: App): Transport {
  const t = testClient(app);
  return {
    url: t.url,
    socket: (path) => t.webSocket(path),
    shutdown: () => app.drain(GRACE_MS),
    [Symbol.asyncDispose]: async () => {
      await t.close();
      await app.drain(GRACE_MS);
    },
  };
}

/** What one session looked like from the client: every frame, then the close. */
interface Transcript {
  frames: unknown[];
  close: { code: number; reason: string };
}

/** A raw client session: sends inputs and raw frames, reads frames with bounded waits. */
class Session {
  readonly frames: unknown[] = [];
  readonly closed: Promise<CloseEvent>;
  #socket: WebSocket;
  #changed = Promise.withResolvers<void>();

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const data = event.data as string | ArrayBuffer;
      this.frames.push(typeof data === "string" ? JSON.parse(data) : codec.decode(data));
      this.#changed.resolve();
      this.#changed = Promise.withResolvers();
    };
    this.closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    this.closed.then(() => this.#changed.resolve());
  }

  async opened(): Promise<void> {
    if (this.#socket.readyState === WebSocket.OPEN) return;
    await within(
      new Promise((resolve, reject) => {
        this.#socket.onopen = resolve;
        this.closed.then(() => reject(new Error("closed before opening")));
      }),
      "the socket to open",
    );
  }

  send(input: unknown): void {
    this.#socket.send(codec.encode(input));
  }

  sendRaw(data: string | Uint8Array): void {
    this.#socket.send(data);
  }

  /** Wait until the frames seen so far satisfy `done`. */
  async until(done: (frames: unknown[]) => boolean, what: string): Promise<void> {
    const wait = async () => {
      while (!done(this.frames)) await this.#changed.promise;
    };
    await within(wait(), what);
  }

  /** Close from the client's side (if still open) and give the transcript. */
  async end(): Promise<Transcript> {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000, "done");
    const event = await within(this.closed, "the socket to close");
    return { frames: merged(this.frames), close: { code: event.code, reason: event.reason } };
  }
}

/** `dropped` frames go out at most every 100 ms: a count split over two frames is one fact. */
function merged(frames: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const frame of frames) {
    const last = out.at(-1) as { action?: string; count?: number } | undefined;
    const next = frame as { action?: string; count?: number };
    if (last?.action === "dropped" && next.action === "dropped") {
      out[out.length - 1] = { ...last, count: last.count! + next.count! };
    } else out.push(frame);
  }
  return out;
}

function dropped(frames: unknown[]): number {
  return frames.reduce<number>(
    (sum, frame) =>
      sum +
      ((frame as { action?: string }).action === "dropped"
        ? (frame as { count: number }).count
        : 0),
    0,
  );
}

function outputs(frames: unknown[]): number {
  return frames.filter((frame) => !(frame as { type?: string }).type).length;
}

const hello = (limits: Record<string, unknown>) => ({
  type: "x-fal-message",
  action: "hello",
  limits: {
    maxMessageBytes: 16 * 1024 * 1024,
    buffering: null,
    maxBatchSize: 1,
    sessionTimeout: null,
    ...limits,
  },
});
const error = (code: string, reason: string, extra: Record<string, unknown> = {}) => ({
  type: "x-fal-error",
  error: code,
  reason,
  ...extra,
});
const timeout = error("TIMEOUT", TIMEOUT_REASON);

/** A gate a handler waits on until the scenario opens it. */
function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { wait: promise, open: () => resolve() };
}

const N = z.object({ n: z.number() });

/** One scenario: a fresh App, then a script against it; gives the transcript. */
interface Scenario {
  name: string;
  run(transport: (app: App) => Transport): Promise<Transcript>;
  expected: Transcript;
}

const scenarios: Scenario[] = [
  {
    name: "latest wins: buffering 2 keeps the newest pending inputs and reports the drops",
    async run(transport) {
      const first = gate();
      let calls = 0;
      const app = new App().realtime("/rt", { input: N, buffering: 2 }, async (input) => {
        if (calls++ === 0) await first.wait;
        return input;
      });
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      for (let n = 0; n < 10; n++) session.send({ n });
      await session.until((frames) => dropped(frames) === 7, "7 inputs dropped");
      first.open();
      await session.until((frames) => outputs(frames) === 3, "3 outputs");
      session.send({ n: 10 });
      await session.until((frames) => outputs(frames) === 4, "the 4th output");
      return await session.end();
    },
    expected: {
      frames: [
        hello({ buffering: 2 }),
        { type: "x-fal-message", action: "dropped", count: 7 },
        { n: 0 },
        { n: 8 },
        { n: 9 },
        { n: 10 },
      ],
      close: { code: 1000, reason: "done" },
    },
  },
  {
    name: "batching: inputs that wait are handed over in batches of up to maxBatchSize",
    async run(transport) {
      const first = gate();
      let calls = 0;
      const app = new App().realtime(
        "/rt",
        { input: N, buffering: 8, maxBatchSize: 4 },
        async (inputs) => {
          if (calls++ === 0) await first.wait;
          return { batch: inputs.map((input) => input.n) };
        },
      );
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      // Input 0 runs at once; 1..9 wait, and the 10th arrival drops the oldest (1): that drop
      // shows that all of them are in.
      for (let n = 0; n < 10; n++) session.send({ n });
      await session.until((frames) => dropped(frames) === 1, "1 input dropped");
      first.open();
      await session.until((frames) => outputs(frames) === 3, "3 outputs");
      return await session.end();
    },
    expected: {
      frames: [
        hello({ buffering: 8, maxBatchSize: 4 }),
        { type: "x-fal-message", action: "dropped", count: 1 },
        { batch: [0] },
        { batch: [2, 3, 4, 5] },
        { batch: [6, 7, 8, 9] },
      ],
      close: { code: 1000, reason: "done" },
    },
  },
  {
    name: "INVALID_INPUT for a schema failure and an undecodable frame; the session goes on",
    async run(transport) {
      const app = new App().realtime("/rt", { input: N }, (input) => input);
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      session.send({ n: "one" });
      session.sendRaw(new Uint8Array([0xc1]));
      session.send({ n: 1 });
      await session.until((frames) => frames.length === 4, "4 frames");
      return await session.end();
    },
    expected: {
      frames: [
        hello({}),
        error("INVALID_INPUT", "n: Invalid input: expected number, received string", {
          issues: [{ message: "Invalid input: expected number, received string", path: ["n"] }],
        }),
        { type: "x-fal-error", error: "INVALID_INPUT", reason: "PLACEHOLDER" },
        { n: 1 },
      ],
      close: { code: 1000, reason: "done" },
    },
  },
  {
    name: "MESSAGE_TOO_LARGE for a frame over maxMessageBytes, not decoded; the session goes on",
    async run(transport) {
      const app = new App().realtime("/rt", { maxMessageBytes: 1024 }, (input) => input);
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      session.sendRaw(new Uint8Array(2000));
      session.send({ n: 2 });
      await session.until((frames) => frames.length === 3, "3 frames");
      return await session.end();
    },
    expected: {
      frames: [
        hello({ maxMessageBytes: 1024 }),
        error("MESSAGE_TOO_LARGE", "message of 2000 bytes is over the limit of 1024"),
        { n: 2 },
      ],
      close: { code: 1000, reason: "done" },
    },
  },
  {
    name: "TIMEOUT after sessionTimeout without input, then the server closes with 1000",
    async run(transport) {
      const app = new App().realtime("/rt", { sessionTimeout: 0.2 }, (input) => input);
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      session.send({ n: 3 });
      return await within(session.closed.then(() => session.end()), "the timeout");
    },
    expected: {
      frames: [hello({ sessionTimeout: 0.2 }), { n: 3 }, timeout],
      close: { code: 1000, reason: "timeout" },
    },
  },
  {
    name: "end: a client_streaming session answers once the client ends its input",
    async run(transport) {
      const app = new App().realtime(
        "/rt",
        { input: N, mode: "client_streaming" },
        async (inputs) => {
          const ns: number[] = [];
          for await (const input of inputs) ns.push(input.n);
          return { ns };
        },
      );
      await using served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      session.send({ n: 1 });
      session.send({ n: 2 });
      session.sendRaw(END_OF_INPUT);
      return await within(session.closed.then(() => session.end()), "the end of the session");
    },
    expected: {
      frames: [hello({}), { ns: [1, 2] }, timeout],
      close: { code: 1000, reason: "timeout" },
    },
  },
  {
    name: "shutdown: SHUTTING_DOWN with the unprocessed count after the grace, then 1001",
    async run(transport) {
      const app = new App({ onError() {} }).realtime(
        "/rt",
        { input: N, buffering: 1 },
        async (input, ctx) => {
          await delay(60_000, ctx.signal); // busy past the grace: aborted at the end
          return input;
        },
      );
      const served = transport(app);
      const session = new Session(served.socket("/rt"));
      await session.opened();
      // 0 runs, 1 waits, 2 drops 1: the drop shows all three are in.
      for (let n = 0; n < 3; n++) session.send({ n });
      await session.until((frames) => dropped(frames) === 1, "1 input dropped");
      await served.shutdown();
      const transcript = await session.end();
      await served[Symbol.asyncDispose]();
      return transcript;
    },
    expected: {
      frames: [
        hello({ buffering: 1 }),
        { type: "x-fal-message", action: "dropped", count: 1 },
        error("SHUTTING_DOWN", "server is shutting down", { retryable: true, unprocessed: 2 }),
      ],
      close: { code: 1001, reason: "server is shutting down" },
    },
  },
];

/** The reason of a decode failure is the codec's message: compare it with itself. */
function withDecodeReason(expected: Transcript, actual: Transcript): Transcript {
  return {
    ...expected,
    frames: expected.frames.map((frame, i) =>
      (frame as { reason?: string }).reason === "PLACEHOLDER"
        ? { ...frame as object, reason: (actual.frames[i] as { reason: string }).reason }
        : frame
    ),
  };
}

for (const scenario of scenarios) {
  Deno.test(`parity, real port and in memory: ${scenario.name}`, async () => {
    const real = await scenario.run(overPort);
    const memory = await scenario.run(inMemory);
    assert.deepEqual(real, withDecodeReason(scenario.expected, real), "over a real port");
    assert.deepEqual(memory, real, "in memory, the same frames and close as over a real port");
  });
}
