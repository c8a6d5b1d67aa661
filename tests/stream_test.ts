import assert from "node:assert/strict";
import { z } from "zod";
import { HttpError, stream, StreamError } from "../client/mod.ts";
import { App, type Context } from "../server/mod.ts";
import { aborted, listen, waitFor, within } from "./_realtime_helpers.ts";
import { inMemory } from "./_memory.ts";

const Input = z.object({ prompt: z.string() });
const Word = z.object({ word: z.string() });

/** An app whose `/words` streams the prompt's words; errors land in `errors`. */
function wordsApp(errors: unknown[] = []) {
  return new App({ onError: (error) => errors.push(error) })
    .stream("/words", { input: Input, output: Word }, async function* (input) {
      for (const word of input.prompt.split(" ")) yield { word };
    })
    .stream("/fails", {}, async function* () {
      yield { word: "first" };
      throw new Error("secret detail");
    })
    .stream("/bad-output", { output: Word }, function* () {
      yield { word: "ok" };
      yield { word: 42 } as unknown as { word: string };
    });
}

/** An app whose `/wait` yields once, then waits for its signal; `signals` gets each ctx. */
function waitingApp() {
  const contexts: Context[] = [];
  const app = new App().stream("/wait", {}, async function* (_input, ctx) {
    contexts.push(ctx);
    yield { started: true };
    await aborted(ctx.signal);
  });
  return { app, contexts };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

Deno.test("stream answers text/event-stream with one data event per yielded output", async () => {
  await using server = listen(wordsApp());
  const response = await fetch(`${server.http}/words`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "a b c" }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.equal(
    await response.text(),
    'data: {"word":"a"}\n\ndata: {"word":"b"}\n\ndata: {"word":"c"}\n\n',
  );
});

Deno.test("stream() yields each event's parsed data, in order", async () => {
  await using server = inMemory(wordsApp());
  const words = await within(
    collect(stream(server.http, { path: "/words", input: { prompt: "Hello, streaming world" } })),
    "the stream",
  );
  assert.deepEqual(words, [{ word: "Hello," }, { word: "streaming" }, { word: "world" }]);
});

Deno.test("stream() returns its iterable at once and sends nothing until iterated", async () => {
  let calls = 0;
  const app = new App().stream("/count", {}, async function* () {
    calls++;
    yield { calls };
  });
  await using server = inMemory(app);
  const outputs = stream(server.http, { path: "/count" });
  assert.equal(typeof outputs[Symbol.asyncIterator], "function");
  assert.equal(calls, 0);
  assert.deepEqual(await within(collect(outputs), "the stream"), [{ calls: 1 }]);
});

Deno.test("stream ends with an error event when the handler throws; stream() rejects with its detail", async () => {
  const errors: unknown[] = [];
  await using server = listen(wordsApp(errors));
  const response = await fetch(`${server.http}/fails`, { method: "POST" });
  assert.equal(
    await response.text(),
    'data: {"word":"first"}\n\nevent: error\ndata: {"detail":"Internal Server Error"}\n\n',
  );
  const seen: unknown[] = [];
  const error = await within(
    (async () => {
      for await (const output of stream(server.http, { path: "/fails" })) seen.push(output);
    })().catch((error) => error),
    "the failing stream",
  );
  assert.deepEqual(seen, [{ word: "first" }]);
  assert.ok(error instanceof StreamError);
  assert.equal(error.detail, "Internal Server Error");
  assert.equal(errors.length, 2);
  assert.equal((errors[0] as Error).message, "secret detail");
});

Deno.test("stream ends with an error event when an output fails the output schema", async () => {
  const errors: unknown[] = [];
  await using server = inMemory(wordsApp(errors));
  const seen: unknown[] = [];
  await assert.rejects(
    within(
      (async () => {
        for await (const output of stream(server.http, { path: "/bad-output" })) seen.push(output);
      })(),
      "the stream",
    ),
    StreamError,
  );
  assert.deepEqual(seen, [{ word: "ok" }]);
  assert.match((errors[0] as Error).message, /^Output failed its schema/);
});

Deno.test("stream answers input errors as HTTP does, before any event", async () => {
  await using server = listen(wordsApp());
  const error = await collect(stream(server.http, { path: "/words", input: { prompt: 1 } }))
    .catch((error) => error);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 422);
  assert.deepEqual((error.detail as { loc: unknown[] }[])[0].loc, ["body", "prompt"]);
  const wrongType = await fetch(`${server.http}/words`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "hi",
  });
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();
  const missing = await collect(stream(server.http, { path: "/nope" })).catch((error) => error);
  assert.ok(missing instanceof HttpError);
  assert.equal(missing.status, 404);
});

Deno.test("stream answers 405 with Allow: POST to a GET", async () => {
  const response = await wordsApp().fetch(new Request("http://rally.test/words"));
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
  await response.body?.cancel();
});

Deno.test("stream() against an endpoint that does not stream fails with a TypeError", async () => {
  const app = new App().endpoint("/", {}, () => ({ not: "a stream" }));
  await using server = inMemory(app);
  await assert.rejects(collect(stream(server.http)), {
    name: "TypeError",
    message: /^Expected an event stream from .*, got application\/json/,
  });
});

Deno.test("breaking out of stream() cancels the request and the handler's ctx.signal fires", async () => {
  const { app, contexts } = waitingApp();
  await using server = inMemory(app);
  for await (const output of stream(server.http, { path: "/wait" })) {
    assert.deepEqual(output, { started: true });
    break;
  }
  await within(aborted(contexts[0].signal), "ctx.signal to abort after the break");
});

Deno.test("aborting stream()'s signal cancels the request and the handler's ctx.signal fires", async () => {
  const { app, contexts } = waitingApp();
  await using server = inMemory(app);
  const controller = new AbortController();
  const outputs = stream(server.http, { path: "/wait", signal: controller.signal });
  const error = await within(
    (async () => {
      for await (const _ of outputs) controller.abort();
    })().catch((error) => error),
    "the aborted stream to end",
  );
  assert.equal(error.name, "AbortError");
  await within(aborted(contexts[0].signal), "ctx.signal to abort after the client's abort");
});

Deno.test("shutdown ends a stream that outlives the grace with a shutting-down error event", async () => {
  const { app, contexts } = waitingApp();
  const server = listen(app, 50);
  const outputs: unknown[] = [];
  const ended = (async () => {
    for await (const output of stream(server.http, { path: "/wait" })) outputs.push(output);
  })().catch((error) => error);
  await waitFor(() => outputs.length === 1, "the first output");
  await within(server.shutdown(), "the server to stop");
  const error = await within(ended, "the stream to end");
  assert.ok(error instanceof StreamError);
  assert.equal(error.detail, "Server is shutting down");
  assert.ok(contexts[0].signal.aborted);
});

Deno.test("shutdown lets a stream that finishes within the grace end normally", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const app = new App().stream("/slow", {}, async function* () {
    yield { n: 1 };
    await gate;
    yield { n: 2 };
  });
  const server = listen(app, 5_000);
  const outputs: unknown[] = [];
  const ended = (async () => {
    for await (const output of stream(server.http, { path: "/slow" })) outputs.push(output);
  })();
  await waitFor(() => outputs.length === 1, "the first output");
  const shutdown = server.shutdown();
  release();
  await within(ended, "the stream to end");
  await within(shutdown, "the server to stop");
  assert.deepEqual(outputs, [{ n: 1 }, { n: 2 }]);
});

Deno.test("stream() sends its token as a Bearer header, with extra headers", async () => {
  const app = new App().stream("/who", {}, function* (_input, ctx) {
    yield {
      authorization: ctx.request.headers.get("authorization"),
      extra: ctx.request.headers.get("x-extra"),
    };
  });
  await using server = inMemory(app);
  const outputs = await collect(
    stream(server.http, { path: "/who", token: "t0k", headers: { "x-extra": "1" } }),
  );
  assert.deepEqual(outputs, [{ authorization: "Bearer t0k", extra: "1" }]);
});
