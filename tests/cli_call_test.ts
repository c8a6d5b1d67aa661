/**
 * `rally call` (issue 16, items 5 and 9 to 11): the path in the URL, `/realtime` as the realtime
 * default, every output of a streaming endpoint, bytes from a file or base64, and a stopped
 * server named with its cause.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { App } from "../server/mod.ts";
import { freePort, spawnDeno } from "./_helpers.ts";
import { listen } from "./_realtime_helpers.ts";

const RUN_MS = 30_000;
const Input = z.object({ prompt: z.string() });
const Bytes = z.object({ data: z.instanceof(Uint8Array), label: z.string().optional() });

function app(): App {
  return new App()
    .endpoint("/", { input: Input }, (input) => ({ output: input.prompt }))
    .endpoint("/size", { input: Bytes }, (input) => ({ n: input.data.length, label: input.label }))
    .realtime("/realtime", { input: Input }, (input) => ({ output: input.prompt }))
    .realtime(
      "/rsize",
      { input: Bytes },
      (input) => ({ n: input.data.length, first: input.data[0] }),
    )
    .realtime("/steps", { input: Input, mode: "server_streaming" }, async function* (input) {
      for (let step = 1; step <= 3; step++) yield { step, prompt: input.prompt };
    })
    .realtime("/sum", { mode: "client_streaming" }, async (inputs) => {
      let n = 0;
      for await (const _ of inputs as AsyncIterable<unknown>) n++;
      return { inputs: n };
    });
}

/** Run `rally call ARGS` to its end. */
async function call(...args: string[]): Promise<{ code: number; output: string }> {
  const child = spawnDeno(["run", "-A", "cli.ts", "call", ...args]);
  const status = await child.exited(RUN_MS);
  return { code: status.code, output: child.output() };
}

Deno.test("call --realtime defaults to /realtime and takes a path written in the URL", async () => {
  await using server = listen(app());
  const input = '{"prompt":"hi"}';
  const expected = { code: 0, output: '{"output":"hi"}\n' };
  assert.deepEqual(await call(server.http, "--realtime", input), expected);
  assert.deepEqual(await call(`${server.http}/realtime`, "--realtime", input), expected);
  assert.deepEqual(await call(`${server.ws}/realtime`, "--realtime", input), expected);
  assert.deepEqual(await call(server.http, "--realtime", "--path", "/realtime", input), expected);
  // HTTP: the path in the URL too.
  assert.deepEqual(await call(`${server.http}/`, input), expected);
});

Deno.test("call --realtime prints every output of a streaming endpoint until the session ends", async () => {
  await using server = listen(app());
  assert.deepEqual(await call(`${server.ws}/steps`, "--realtime", '{"prompt":"p"}'), {
    code: 0,
    output: '{"step":1,"prompt":"p"}\n{"step":2,"prompt":"p"}\n{"step":3,"prompt":"p"}\n',
  });
  // client_streaming: the input, then end of input, then its one output.
  assert.deepEqual(await call(`${server.http}/sum`, "--realtime", "{}"), {
    code: 0,
    output: '{"inputs":1}\n',
  });
});

Deno.test("call fills bytes fields from @file or base64, over HTTP (msgpack) and realtime", async () => {
  await using server = listen(app());
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/frame.bin`;
    await Deno.writeFile(file, new Uint8Array([7, 8, 9, 10]));
    assert.deepEqual(await call(`${server.http}/size`, `{"data":"@${file}","label":"x"}`), {
      code: 0,
      output: '{"n":4,"label":"x"}\n',
    });
    assert.deepEqual(await call(`${server.http}/rsize`, "--realtime", '{"data":"AQID"}'), {
      code: 0,
      output: '{"n":3,"first":1}\n',
    });
    const missing = await call(`${server.http}/size`, `{"data":"@${dir}/none.bin"}`);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /^rally: Cannot read .*none\.bin for the bytes field data: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("call --bytes marks a field as bytes where the server has no OpenAPI document", async () => {
  const plain = new App().realtime("/raw", {}, (input) => ({
    isBytes: (input as { blob: unknown }).blob instanceof Uint8Array,
  }));
  // The App's /openapi.json lists /raw without an input schema: only --bytes says which field.
  await using server = listen(plain);
  assert.deepEqual(
    await call(`${server.http}/raw`, "--realtime", "--bytes", "blob", '{"blob":"AQID"}'),
    {
      code: 0,
      output: '{"isBytes":true}\n',
    },
  );
});

Deno.test("call against a stopped server names the URL and the cause, exit 1", async () => {
  const origin = `http://127.0.0.1:${freePort()}`;
  const http = await call(origin, "{}");
  assert.equal(http.code, 1);
  assert.equal(
    http.output,
    `rally: Cannot reach ${origin}/: connection refused: is the server running at ${origin}?\n`,
  );
  const socket = await call(origin, "--realtime", "{}");
  assert.equal(socket.code, 1);
  assert.match(
    socket.output,
    /^rally: CONNECTION_CLOSED: could not connect to ws:.*\/realtime: connection refused/,
  );
});
