import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { z } from "zod";
import { App, type Schema } from "../server/mod.ts";
import { listen } from "./_realtime_helpers.ts";
import { VERSION } from "../protocol.ts";

const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string() });

/** A Standard Schema without the JSON Schema converter: validation only. */
const opaque: Schema<{ n: number }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) => ({ value: value as { n: number } }),
  },
};

function fullApp(): App {
  return new App({ name: "full" })
    .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
    .endpoint("/untyped", {}, (input) => input)
    .endpoint("/opaque", { input: opaque }, (input) => input)
    .stream("/v1/tokens", { input: Input, output: Output }, function* (input) {
      yield { output: input.prompt };
    })
    .realtime("/realtime", { input: Input, output: Output, buffering: 2, sessionTimeout: 60 }, (
      input,
    ) => ({ output: input.prompt }))
    .realtime("/batch", { maxBatchSize: 4 }, (inputs) => ({ n: inputs.length }))
    .websocket("/echo", () => {});
}

async function validate(document: unknown) {
  return await new Validator().validate(document as Record<string, unknown>);
}

Deno.test("openapi: GET /openapi.json is a valid OpenAPI 3.1 document listing every route", async () => {
  await using server = listen(fullApp());
  const response = await fetch(`${server.http}/openapi.json`);
  assert.equal(response.status, 200);
  const document = await response.json();
  assert.deepEqual(await validate(document), { valid: true });
  assert.equal(document.openapi, "3.1.0");
  assert.deepEqual(document.info, { title: "full", version: VERSION });
  assert.deepEqual(Object.keys(document.paths).sort(), [
    "/",
    "/batch",
    "/echo",
    "/health",
    "/opaque",
    "/realtime",
    "/untyped",
    "/v1/tokens",
  ]);
  assert.deepEqual(document, fullApp().openapi(), "the route serves app.openapi()");
});

Deno.test("openapi: the validator refuses a broken document (so the check above can fail)", async () => {
  const document = fullApp().openapi() as unknown as Record<string, unknown>;
  delete (document.info as Record<string, unknown>).version;
  assert.equal((await validate(document)).valid, false);
});

Deno.test("openapi: HTTP and SSE routes carry the JSON Schemas of their inputs and outputs", () => {
  const { paths } = fullApp().openapi();
  const post = paths["/"].post as {
    operationId: string;
    requestBody: { required: boolean; content: Record<string, { schema: unknown }> };
    responses: Record<string, { content: Record<string, { schema: unknown }> }>;
  };
  assert.equal(post.operationId, "root");
  assert.equal(post.requestBody.required, true);
  const input = { ...Input["~standard"].jsonSchema.input({ target: "draft-2020-12" }) };
  const output = { ...Output["~standard"].jsonSchema.output({ target: "draft-2020-12" }) };
  for (const type of ["application/json", "application/msgpack"]) {
    assert.deepEqual(post.requestBody.content[type].schema, input);
    assert.deepEqual(post.responses["200"].content[type].schema, output);
  }
  assert.deepEqual(post.responses["422"].content["application/json"].schema, {
    $ref: "#/components/schemas/HTTPValidationError",
  });
  const tokens = paths["/v1/tokens"].post as typeof post;
  assert.equal(tokens.operationId, "v1_tokens");
  assert.deepEqual(tokens.responses["200"].content["text/event-stream"], {
    schema: { type: "string" },
    "x-item-schema": output,
  });
});

Deno.test("openapi: schemas without the Standard JSON Schema interface, or none, are left out", () => {
  const { paths } = fullApp().openapi();
  for (const path of ["/untyped", "/opaque"]) {
    const post = paths[path].post as {
      requestBody: { required: boolean; content: Record<string, unknown> };
    };
    assert.deepEqual(post.requestBody.content["application/json"], {}, path);
  }
  assert.equal(
    (paths["/untyped"].post as { requestBody: { required: boolean } }).requestBody.required,
    false,
  );
});

Deno.test("openapi: each WebSocket route's path item carries x-fal-protocol", () => {
  const { paths } = fullApp().openapi();
  assert.deepEqual(paths["/realtime"]["x-fal-protocol"], {
    type: "realtime",
    operationId: "realtime",
    config: { buffering: 2, sessionTimeout: 60, maxBatchSize: 1 },
    contentType: "application/msgpack",
    realtimeMode: "unary",
  });
  assert.deepEqual(paths["/batch"]["x-fal-protocol"], {
    type: "realtime",
    operationId: "batch",
    config: { buffering: null, sessionTimeout: null, maxBatchSize: 4 },
    contentType: "application/msgpack",
    realtimeMode: "unary",
  });
  assert.deepEqual(paths["/echo"]["x-fal-protocol"], { type: "websocket", operationId: "echo" });
  const streaming = new App().realtime(
    "/steps",
    { mode: "server_streaming" },
    async function* (input) {
      yield input;
    },
  ).openapi().paths["/steps"]["x-fal-protocol"] as { realtimeMode: string };
  assert.equal(streaming.realtimeMode, "server_streaming");
  const get = paths["/realtime"].get as Record<string, unknown>;
  assert.deepEqual(Object.keys(get["x-rally-messages"] as object), ["input", "output"]);
  assert.deepEqual(Object.keys(get.responses as object), ["101"]);
});

Deno.test("openapi: operation ids stay unique when two paths read alike", () => {
  const app = new App()
    .endpoint("/a-b", {}, () => ({}))
    .endpoint("/a_b", {}, () => ({}));
  const { paths } = app.openapi();
  assert.deepEqual(
    ["/a-b", "/a_b"].map((path) => (paths[path].post as { operationId: string }).operationId),
    ["a_b", "a_b_2"],
  );
});

Deno.test("openapi: /openapi.json and /health are rally's own paths and answer 405 to a POST", async () => {
  for (const path of ["/openapi.json", "/health"]) {
    assert.throws(() => new App().endpoint(path, {}, () => ({})), {
      name: "TypeError",
      message: `${path} is rally's own route`,
    });
    const response = await new App().fetch(
      new Request(`http://rally.test${path}`, { method: "POST" }),
    );
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "GET");
    await response.body?.cancel();
  }
});
