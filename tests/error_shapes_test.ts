/**
 * Error shapes (issue 16, items 6 to 8): one error for an output that fails its schema on every
 * transport, handler errors as JSON log records with their stack, `RealtimeError` from the
 * server's entry point, and OpenAPI's bytes fields and its warning about what it drops.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { realtime, RealtimeError as ClientRealtimeError } from "../client/mod.ts";
import { App, type LogRecord, RealtimeError } from "../server/mod.ts";
import { listen, Peer, within } from "./_realtime_helpers.ts";

const Output = z.object({ output: z.string() });
const bad = () => ({ output: 1 as unknown as string });

Deno.test("an output that fails its schema reaches onError as one error over HTTP, SSE and realtime", async () => {
  const errors: unknown[] = [];
  const app = new App({ onError: (error) => errors.push(error) })
    .endpoint("/http", { output: Output }, bad)
    .stream("/sse", { output: Output }, async function* () {
      yield bad();
    })
    .realtime("/rt", { output: Output }, bad);
  await using server = listen(app);
  const http = await fetch(`${server.http}/http`, { method: "POST" });
  assert.equal(http.status, 500);
  assert.deepEqual(await http.json(), { detail: "Internal Server Error" });
  const sse = await fetch(`${server.http}/sse`, { method: "POST" });
  assert.match(await sse.text(), /event: error/);
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({});
  const frame = await peer.control();
  assert.equal(frame.error, "INTERNAL_ERROR");
  assert.equal(errors.length, 3);
  for (const error of errors) {
    assert.ok(error instanceof TypeError);
    assert.equal(
      error.message,
      "Output failed its schema: output: Invalid input: expected string, received number",
    );
    assert.deepEqual((error as TypeError & { issues: unknown }).issues, [
      { message: "Invalid input: expected string, received number", path: ["output"] },
    ]);
  }
});

Deno.test("with logs on, a handler's error and its stack are one JSON log record, not plain text", async () => {
  const records: LogRecord[] = [];
  const app = new App({ log: { sink: (record) => records.push(record) } })
    .endpoint("/boom", {}, () => {
      throw new Error("boom", { cause: new RangeError("deeper") });
    });
  const printed: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args);
  try {
    const response = await app.fetch(new Request("http://localhost/boom", { method: "POST" }));
    assert.equal(response.status, 500);
    await response.body?.cancel();
  } finally {
    console.error = original;
  }
  assert.deepEqual(printed, []);
  const failed = records.find((record) => record.msg === "handler failed");
  assert.ok(failed, JSON.stringify(records));
  assert.equal(failed.level, "error");
  assert.equal(failed.path, "/boom");
  assert.equal(failed.error?.message, "boom");
  assert.match(failed.error?.stack ?? "", /^Error: boom\n\s+at /);
  assert.equal(failed.error?.cause?.name, "RangeError");
  // The record is one line of JSON with the stack inside.
  assert.equal(JSON.stringify(failed).includes("\n"), false);
});

Deno.test("RealtimeError imported from @rally/rally/server is the class the client throws", async () => {
  assert.equal(RealtimeError, ClientRealtimeError);
  const app = new App().realtime("/rt", {}, () => {
    throw new RealtimeError("INVALID_INPUT", "no frames on Sundays");
  });
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/rt" });
  conn.send({});
  const error = await within(conn.receive().catch((error) => error), "the error frame");
  assert.ok(error instanceof RealtimeError);
  assert.equal(error.code, "INVALID_INPUT");
  assert.equal(error.reason, "no frames on Sundays");
});

Deno.test("openapi describes bytes as binary strings and warns once about what it still drops", () => {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (text: string) => warnings.push(text);
  let doc;
  try {
    const app = new App().endpoint("/img", {
      input: z.object({ image: z.instanceof(Uint8Array), when: z.date(), n: z.number() }),
      output: z.object({ frames: z.array(z.custom<Uint8Array>((v) => v instanceof Uint8Array)) }),
    }, () => ({ frames: [] }));
    doc = app.openapi();
    app.openapi(); // the same warning is not given twice
  } finally {
    console.warn = original;
  }
  const post = doc.paths["/img"].post as {
    requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    responses: Record<
      string,
      { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
    >;
  };
  const input = post.requestBody.content["application/json"].schema.properties;
  assert.deepEqual(input.image, { type: "string", format: "binary" });
  assert.deepEqual(input.n, { type: "number" });
  assert.deepEqual(input.when, {});
  const output = post.responses["200"].content["application/msgpack"].schema.properties;
  assert.deepEqual(output.frames, { type: "array", items: { type: "string", format: "binary" } });
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(
    warnings[0],
    /^rally: OpenAPI: POST \/img: input: when \(date\) cannot be described/,
  );
});
