// Type-level tests: `deno test` type-checks this file, so a wrong inference fails the run.
import assert from "node:assert/strict";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { z } from "zod";
import { App, type InferInput, type InferOutput, type Schema } from "../server/mod.ts";

const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string(), n: z.number().default(0) });

Deno.test("any Standard Schema v1 object is a rally Schema", () => {
  const fromSpec: StandardSchemaV1<string, number> = z.string().transform((s) => s.length);
  const schema: Schema<string, number> = fromSpec;
  const inferredIn: InferOutput<typeof schema> = 3;
  const inferredOut: InferInput<typeof schema> = "three";
  assert.equal(typeof inferredIn + typeof inferredOut, "numberstring");
});

Deno.test("handlers take the schema's output type and return its input type", () => {
  const app = new App()
    .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
    .realtime("/one", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
    .realtime("/batch", { input: Input, output: Output, maxBatchSize: 4 }, (inputs) => ({
      output: inputs.map((input) => input.prompt).join(","),
    }))
    .realtime("/untyped", {}, (input) => ({ echo: input }));
  // @ts-expect-error the output schema wants `output: string`
  app.endpoint("/wrong-output", { output: Output }, () => ({ output: 1 }));
  // @ts-expect-error without maxBatchSize the handler gets one input, not an array
  app.realtime("/not-batched", { input: Input }, (input) => input.map((x) => x));
  // @ts-expect-error with maxBatchSize over 1 the handler gets an array
  app.realtime("/batched", { input: Input, maxBatchSize: 2 }, (inputs) => inputs.prompt);
  assert.equal(app.name, "rally");
});

Deno.test("realtime handler types follow the mode", () => {
  const app = new App()
    .realtime("/ss", { input: Input, output: Output, mode: "server_streaming" }, async function* (
      input,
    ) {
      yield { output: input.prompt };
    })
    .realtime("/cs", { input: Input, output: Output, mode: "client_streaming" }, async (inputs) => {
      const prompts: string[] = [];
      for await (const input of inputs) prompts.push(input.prompt);
      return { output: prompts.join(",") };
    })
    .realtime("/bidi", { input: Input, output: Output, mode: "bidi" }, async function* (inputs) {
      for await (const input of inputs) yield { output: input.prompt };
    });
  // @ts-expect-error server_streaming needs an async iterable of outputs, not one output
  app.realtime("/ss-one", { output: Output, mode: "server_streaming" }, () => ({ output: "x" }));
  app.realtime("/ss-many", { input: Input, mode: "server_streaming" }, async function* (inputs) {
    // @ts-expect-error server_streaming gets one input, not an iterable of them
    for await (const input of inputs) yield input;
  });
  // @ts-expect-error client_streaming gets an iterable of inputs, not one input
  app.realtime("/cs-one", { input: Input, mode: "client_streaming" }, (input) => input.prompt);
  // @ts-expect-error client_streaming returns one output, not an async iterable of them
  app.realtime("/cs-many", { output: Output, mode: "client_streaming" }, async function* () {
    yield { output: "x" };
  });
  // @ts-expect-error bidi yields outputs: returning one is not enough
  app.realtime("/bidi-one", { output: Output, mode: "bidi" }, () => ({ output: "x" }));
  app.realtime("/bidi-input", { input: Input, mode: "bidi" }, async function* (input) {
    // @ts-expect-error bidi gets an iterable of inputs, not one input
    yield { output: input.prompt };
  });
  // @ts-expect-error unary returns one output, not an async iterable of them
  app.realtime("/unary-many", { output: Output }, async function* () {
    yield { output: "x" };
  });
  assert.equal(app.name, "rally");
});
