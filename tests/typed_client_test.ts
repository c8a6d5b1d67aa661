// The typed client: `deno test` type-checks this file, so each `@ts-expect-error` below must
// meet a compile error (an unused one fails the check), and each assignment must type-check.
import assert from "node:assert/strict";
import { z } from "zod";
import { client, RealtimeError, type RealtimeType, type TypedClient } from "../client/mod.ts";
import { App, type EndpointType, type RoutesOf, type WebSocketSession } from "../server/mod.ts";
import { listen } from "./_realtime_helpers.ts";

const Input = z.object({ prompt: z.string(), n: z.number().default(1) });
const Output = z.object({ output: z.string() });

/** The builder form: each route adds its type to `typeof builder`. */
const builder = new App({ name: "typed" })
  .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
  .endpoint("/count", { input: Input }, (input) => ({ words: input.prompt.split(" ").length }))
  .stream("/steps", { input: Input }, async function* (input) {
    for (let step = 0; step < input.n; step++) yield { step };
  })
  .realtime("/realtime", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
  .realtime("/batched", { input: Input, maxBatchSize: 4 }, (inputs) => ({ size: inputs.length }))
  .realtime(
    "/collect",
    { input: Input, mode: "client_streaming" },
    async (inputs) => {
      const prompts: string[] = [];
      for await (const input of inputs) prompts.push(input.prompt);
      return { prompts };
    },
  )
  .realtime("/chat", { input: Input, output: Output, mode: "bidi" }, async function* (inputs) {
    for await (const input of inputs) yield { output: input.prompt };
  })
  .websocket("/echo", async (socket) => {
    for await (const message of socket) socket.send(message);
  });

/**
 * The class form: the routes' types are declared in one `extends App<{ ... }>`, and each
 * decorator checks its route against the declaration.
 */
class ClassApp extends App<{
  "/": EndpointType<typeof Input, typeof Output>;
  "/realtime": RealtimeType<typeof Input, typeof Output>;
}> {
  @App.endpoint("/", { input: Input, output: Output })
  generate(input: z.infer<typeof Input>): z.input<typeof Output> {
    return { output: input.prompt };
  }

  @App.realtime("/realtime", { input: Input, output: Output })
  live(input: z.infer<typeof Input>): z.input<typeof Output> {
    return { output: input.prompt.toUpperCase() };
  }

  @App.get("/page")
  page(): Response {
    return new Response("GET routes are not part of the typed client");
  }
}

/** A declaration that drifted from the decorators fails to compile at each decorator. */
class Drifted extends App<{
  "/": EndpointType<typeof Input, typeof Output>;
  "/live": RealtimeType<typeof Input, typeof Output, "bidi">;
}> {
  // @ts-expect-error "/" is declared as an HTTP endpoint, not a realtime route
  @App.realtime("/", { input: Input, output: Output })
  notAnEndpoint(input: z.infer<typeof Input>): z.input<typeof Output> {
    return { output: input.prompt };
  }

  // @ts-expect-error "/live" is declared bidi, decorated unary
  @App.realtime("/live", { input: Input, output: Output })
  wrongMode(input: z.infer<typeof Input>): z.input<typeof Output> {
    return { output: input.prompt };
  }

  // @ts-expect-error "/undeclared" is not declared in App<...>
  @App.websocket("/undeclared")
  undeclared(_socket: WebSocketSession): void {}

  // @ts-expect-error the declared input is Input's, not Output's
  @App.endpoint("/", { input: Output, output: Output })
  otherInput(input: z.infer<typeof Output>): z.input<typeof Output> {
    return input;
  }
}

/** Type-level checks only: never called. */
function typeChecks(api: TypedClient<RoutesOf<typeof builder>>, classApi: TypedClient<never>) {
  return [
    async () => {
      const out: { output: string } = await api.run("/", { prompt: "hi" });
      // An input's defaults make its field optional on the wire (`n`), and the output of a
      // route without an output schema is what its handler returns.
      const count: { words: number } = await api.run("/count", { prompt: "a b", n: 2 });
      // @ts-expect-error no route at /nope
      await api.run("/nope", { prompt: "hi" });
      // @ts-expect-error /realtime is no HTTP endpoint
      await api.run("/realtime", { prompt: "hi" });
      // @ts-expect-error the input wants a string prompt
      await api.run("/", { prompt: 1 });
      // @ts-expect-error the input is required
      await api.run("/");
      // @ts-expect-error the output has no `words`
      const wrong: { words: number } = await api.run("/", { prompt: "hi" });
      return [out, count, wrong];
    },
    async () => {
      for await (const event of api.stream("/steps", { prompt: "hi" })) {
        const step: number = event.step;
        // @ts-expect-error an event has no `output`
        event.output;
        return step;
      }
      // @ts-expect-error / is no SSE endpoint
      api.stream("/", { prompt: "hi" });
    },
    async () => {
      await using conn = await api.realtime("/realtime");
      conn.send({ prompt: "hi" });
      const out: { output: string } | undefined = await conn.receive();
      // @ts-expect-error a wrong input
      conn.send({ prompt: 1 });
      // @ts-expect-error end() exists only for client_streaming and bidi routes
      conn.end();
      // @ts-expect-error /steps is no realtime endpoint
      await api.realtime("/steps");
      return out;
    },
    async () => {
      // A batched route still takes one input per send; its output is one per batch.
      await using batched = await api.realtime("/batched");
      batched.send({ prompt: "hi" });
      const size: number | undefined = (await batched.receive())?.size;
      await using collect = await api.realtime("/collect");
      collect.send({ prompt: "a" });
      collect.end();
      const prompts: string[] | undefined = (await collect.receive())?.prompts;
      await using chat = await api.realtime("/chat");
      chat.end();
      return [size, prompts];
    },
    () => {
      const handle = api.connect("/realtime", {
        onResult: (result) => {
          const text: string = result.output;
          return text;
        },
      });
      handle.send({ prompt: "hi" });
      // @ts-expect-error a wrong input
      handle.send({});
    },
    async () => {
      await using ws = await api.ws("/echo");
      ws.send("text");
      // @ts-expect-error /realtime is no raw WebSocket endpoint
      await api.ws("/realtime");
    },
    async () => {
      const typed = client<ClassApp>("http://127.0.0.1:8000");
      const out: { output: string } = await typed.run("/", { prompt: "hi" });
      await using conn = await typed.realtime("/realtime");
      conn.send({ prompt: "hi" });
      // @ts-expect-error the class declares no HTTP endpoint at /realtime
      await typed.run("/realtime", { prompt: "hi" });
      // @ts-expect-error routes the class does not declare are unknown to its type
      await typed.ws("/page");
      return [out, classApi, Drifted];
    },
  ];
}

Deno.test("typed client: the type checks above compile (deno test type-checks them)", () => {
  assert.equal(typeChecks.length, 2);
});

Deno.test("typed client: calls each kind of route of a builder-form App over a real port", async () => {
  await using server = listen(builder);
  const api = client<typeof builder>(server.http);
  assert.deepEqual(await api.run("/", { prompt: "hi" }), { output: "hi" });
  assert.deepEqual(await api.run("/count", { prompt: "a b c" }), { words: 3 });
  const steps: number[] = [];
  for await (const event of api.stream("/steps", { prompt: "x", n: 3 })) steps.push(event.step);
  assert.deepEqual(steps, [0, 1, 2]);
  {
    await using conn = await api.realtime("/realtime");
    conn.send({ prompt: "hello" });
    assert.deepEqual(await conn.receive(), { output: "hello" });
    conn.send({ prompt: 7 } as never);
    await assert.rejects(conn.receive(), (error) => {
      assert.ok(error instanceof RealtimeError);
      assert.equal(error.code, "INVALID_INPUT");
      return true;
    });
  }
  {
    await using collect = await api.realtime("/collect");
    collect.send({ prompt: "a" });
    collect.send({ prompt: "b" });
    collect.end();
    assert.deepEqual(await collect.receive(), { prompts: ["a", "b"] });
  }
  {
    await using ws = await api.ws("/echo");
    ws.send("ping");
    assert.equal(await ws.receive(), "ping");
  }
});

Deno.test("typed client: calls a class-form App through its declared route types", async () => {
  await using server = listen(new ClassApp());
  const api = client<ClassApp>(server.http, { headers: { "x-request-id": "typed" } });
  assert.deepEqual(await api.run("/", { prompt: "hi" }), { output: "hi" });
  await using conn = await api.realtime("/realtime");
  conn.send({ prompt: "hi" });
  assert.deepEqual(await conn.receive(), { output: "HI" });
});
