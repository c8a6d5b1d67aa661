import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, run, stream, wsConnect } from "../client/mod.ts";
import { App, type AppOptions, type Context, type WebSocketSession } from "../server/mod.ts";
import { listen, within } from "./_realtime_helpers.ts";

const Input = z.object({ prompt: z.string() });
type Input = z.infer<typeof Input>;
const Output = z.object({ output: z.string() });
type Output = z.infer<typeof Output>;

/** Every kind of route, in the class form; handlers use `this`. */
class EveryRoute extends App {
  suffix = "!";

  @App.endpoint("/", { input: Input, output: Output, maxMessageBytes: 1024 })
  generate(input: Input): Output {
    return { output: input.prompt + this.suffix };
  }

  @App.realtime("/realtime", { input: Input, output: Output, buffering: 2, sessionTimeout: 30 })
  generateRt(input: Input): Output {
    return { output: input.prompt + this.suffix };
  }

  @App.realtime("/batch", { input: Input, maxBatchSize: 4 })
  batch(inputs: Input[]) {
    return { n: inputs.length };
  }

  @App.websocket("/echo", { maxMessageBytes: 2048 })
  async echo(socket: WebSocketSession): Promise<void> {
    socket.send((await socket.receiveText()) + this.suffix);
  }

  @App.stream("/words", { input: Input, output: Output })
  async *words(input: Input, ctx: Context): AsyncGenerator<Output> {
    for (const word of input.prompt.split(" ")) {
      if (ctx.signal.aborted) return;
      yield { output: word + this.suffix };
    }
  }
}

/** The same routes with the builder. */
function everyRouteBuilder(): App {
  const suffix = "!";
  return new App()
    .endpoint(
      "/",
      { input: Input, output: Output, maxMessageBytes: 1024 },
      (input) => ({ output: input.prompt + suffix }),
    )
    .realtime(
      "/realtime",
      { input: Input, output: Output, buffering: 2, sessionTimeout: 30 },
      (input) => ({ output: input.prompt + suffix }),
    )
    .realtime("/batch", { input: Input, maxBatchSize: 4 }, (inputs) => ({ n: inputs.length }))
    .websocket("/echo", { maxMessageBytes: 2048 }, async (socket) => {
      socket.send((await socket.receiveText()) + suffix);
    })
    .stream("/words", { input: Input, output: Output }, async function* (input) {
      for (const word of input.prompt.split(" ")) yield { output: word + suffix };
    });
}

async function callEveryRoute(url: string) {
  const http = await run(url, { input: { prompt: "hi" } });
  const tooLarge = await run(url, { input: { prompt: "x".repeat(2000) } }).catch((error) =>
    error.status
  );
  await using conn = await realtime<Input, Output>(url, { path: "/realtime" });
  conn.send({ prompt: "rt" });
  const rt = await conn.receive();
  await using ws = await wsConnect(url, { path: "/echo" });
  ws.send("ws");
  const echoed = await ws.receive();
  const words: unknown[] = [];
  for await (const word of stream(url, { path: "/words", input: { prompt: "a b" } })) {
    words.push(word);
  }
  return { http, tooLarge, rt, echoed, words };
}

Deno.test("class form and builder fill identical route tables", () => {
  assert.deepEqual(new EveryRoute().openapi().paths, everyRouteBuilder().openapi().paths);
});

Deno.test("class form serves every kind of route with the App as this, as the builder does", async () => {
  const results = [];
  for (const app of [new EveryRoute(), everyRouteBuilder()]) {
    await using server = listen(app);
    results.push(await within(callEveryRoute(server.http), "every route"));
  }
  assert.deepEqual(results[0], {
    http: { output: "hi!" },
    tooLarge: 413,
    rt: { output: "rt!" },
    echoed: "ws!",
    words: [{ output: "a!" }, { output: "b!" }],
  });
  assert.deepEqual(results[1], results[0]);
});

Deno.test("class form registers routes per instance, and builder calls add to them", async () => {
  const one = new EveryRoute().endpoint("/extra", {}, () => ({ extra: true }));
  const two = new EveryRoute();
  assert.ok("/extra" in one.openapi().paths);
  assert.ok(!("/extra" in two.openapi().paths));
  two.suffix = "?";
  const response = await two.fetch(
    new Request("http://rally.test/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "two" }),
    }),
  );
  assert.deepEqual(await response.json(), { output: "two?" });
});

Deno.test("class form: name defaults to the class name in kebab case, as fal names apps", () => {
  class RealtimeApp extends App {}
  class ONNXModelApp extends App {}
  class Custom extends App {
    override name = "my-app";
  }
  assert.equal(new RealtimeApp().name, "realtime-app");
  assert.equal(new ONNXModelApp().name, "onnx-model-app");
  assert.equal(new Custom().name, "my-app");
  assert.equal(new RealtimeApp({ name: "given" }).name, "given");
  assert.equal(new App().name, "rally");
  assert.equal(new (class extends App {})().name, "rally");
});

Deno.test("class form: options are class fields that win over the constructor's, read when the App starts", async () => {
  class Small extends App {
    override maxMessageBytes = 16;
    override maxConcurrency = 3;

    @App.endpoint("/")
    echo(input: unknown) {
      return { input };
    }
  }
  const app = new Small({ maxMessageBytes: 1024, maxQueue: 5 });
  assert.equal(app.maxMessageBytes, 16);
  assert.equal(app.maxConcurrency, 3);
  assert.equal(app.maxQueue, 5);
  const body = JSON.stringify({ prompt: "more than sixteen bytes" });
  const response = await app.fetch(
    new Request("http://rally.test/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
  assert.equal(response.status, 413);
  await response.body?.cancel();

  class Broken extends App {
    override maxMessageBytes = 0;
  }
  const broken = new Broken(); // fields are set after the base constructor: no throw here
  assert.throws(() => broken.fetch(new Request("http://rally.test/health")), RangeError);
});

Deno.test("class form: setup, teardown and onError are methods a subclass overrides", async () => {
  const log: string[] = [];
  class Hooks extends App {
    model?: string;

    override async setup() {
      await Promise.resolve();
      this.model = "loaded";
      log.push("setup");
    }

    override teardown() {
      log.push(`teardown ${this.model}`);
    }

    override onError(error: unknown, ctx: Context) {
      log.push(`error ${(error as Error).message} ${ctx.requestId}`);
    }

    @App.endpoint("/")
    generate() {
      return { model: this.model };
    }

    @App.endpoint("/fails")
    fails(): never {
      throw new Error("boom");
    }
  }
  const app = new Hooks();
  const server = listen(app);
  assert.deepEqual(await run(server.http, { input: {} }), { model: "loaded" });
  await assert.rejects(
    run(server.http, { path: "/fails", input: {}, headers: { "x-request-id": "r1" } }),
    { status: 500 },
  );
  await within(server.shutdown(), "the server to stop");
  assert.deepEqual(log, ["setup", "error boom r1", "teardown loaded"]);
});

Deno.test("class form: the hooks can be constructor options too", async () => {
  const log: string[] = [];
  const options: AppOptions = {
    setup: () => void log.push("setup"),
    teardown: () => void log.push("teardown"),
  };
  const server = listen(new App(options));
  await within(server.shutdown(), "the server to stop");
  assert.deepEqual(log, ["setup", "teardown"]);
});

Deno.test("class form: decorators refuse static methods, and check the method's types", () => {
  assert.throws(
    () => {
      class Wrong extends App {
        // @ts-expect-error a static method's `this` is the class, not an App
        @App.endpoint("/")
        static generate() {
          return {};
        }
      }
      return Wrong;
    },
    { name: "TypeError", message: "App route decorators go on instance methods, not on generate" },
  );
  class Typed extends App {
    // @ts-expect-error the output schema wants `output: string`
    @App.endpoint("/", { output: Output })
    generate(): { output: number } {
      return { output: 1 };
    }

    // @ts-expect-error with maxBatchSize over 1 the method gets an array
    @App.realtime("/batch", { input: Input, maxBatchSize: 2 })
    batch(input: Input) {
      return { output: input.prompt };
    }

    // @ts-expect-error a stream method returns an iterable
    @App.stream("/s")
    notIterable() {
      return 1;
    }
  }
  assert.equal(new Typed().name, "typed");
});

Deno.test("class form: a duplicate path fails when the App is built", () => {
  class Twice extends App {
    @App.endpoint("/a")
    one() {
      return {};
    }

    @App.websocket("/a")
    two() {}
  }
  assert.throws(() => new Twice(), {
    name: "TypeError",
    message: "A route is already registered at /a",
  });
});
