/**
 * The files `rally init DIR` writes: a `deno.json` with tasks, an App with an HTTP and a realtime
 * endpoint, a client script that calls both, a test of both, and a README.
 *
 * @module
 */
import { VERSION } from "../protocol.ts";

/** Where the new project gets rally from. */
export interface RallySource {
  /**
   * A checkout of rally to `links` to (an absolute path): rally's own `deno.json` then resolves
   * its npm dependencies and nothing is fetched from JSR. Unset: rally comes from JSR.
   */
  link?: string;
}

/** zod's version in the starter, as in rally's own `deno.json`. */
export const ZOD = "npm:zod@^4.6.7";

/**
 * The starter project's files, by name.
 *
 * @param name The project's name (the App's name).
 * @param source Where rally comes from.
 * @returns File name to contents.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { starterFiles } from "./starter.ts";
 *
 * const files = starterFiles("my-app", {});
 * assert.deepEqual(Object.keys(files).sort(), [
 *   "README.md",
 *   "client.ts",
 *   "deno.json",
 *   "main.ts",
 *   "main_test.ts",
 * ]);
 * assert.equal(JSON.parse(files["deno.json"]).links, undefined);
 * ```
 */
export function starterFiles(name: string, source: RallySource): Record<string, string> {
  const rally = `jsr:@rally/rally@^${VERSION}`;
  const config = {
    imports: { "@rally/rally": rally, "zod": ZOD },
    ...(source.link ? { links: [source.link] } : {}),
    tasks: {
      dev: `deno run -A ${rally}/cli dev main.ts`,
      start: `deno run -A ${rally}/cli serve main.ts`,
      client: "deno run -A client.ts",
      test: "deno test -A",
    },
  };
  return {
    "deno.json": `${JSON.stringify(config, null, 2)}\n`,
    "main.ts": mainTs(name),
    "client.ts": CLIENT_TS,
    "main_test.ts": TEST_TS,
    "README.md": readme(name, source),
  };
}

function mainTs(name: string): string {
  return `/**
 * ${name}: a rally App. \`deno task dev\` serves it and reloads it when a
 * file changes; \`deno task start\` serves it (port 8000, or $PORT);
 * \`deno task test\` runs main_test.ts.
 */
import { App } from "@rally/rally/server";
import { z } from "zod";

const Prompt = z.object({ prompt: z.string() });
const Reply = z.object({ reply: z.string() });
const Upper = z.object({ upper: z.string() });

const app = new App({ name: ${JSON.stringify(name)} })
  // HTTP: POST / with {"prompt": "hi"} answers {"reply": "You said: hi"}.
  .endpoint("/", { input: Prompt, output: Reply }, (input) => ({
    reply: \`You said: \${input.prompt}\`,
  }))
  // Realtime: a WebSocket at /realtime; each message in gets one out (msgpack).
  .realtime("/realtime", { input: Prompt, output: Upper }, (input) => ({
    upper: input.prompt.toUpperCase(),
  }));

// rally serve, rally dev and deno serve take the App a module default-exports.
export default app;
`;
}

const CLIENT_TS = `/**
 * Calls the App's two endpoints while \`deno task dev\` or \`deno task start\`
 * serves it: \`deno task client [URL]\` (default http://127.0.0.1:8000, or the
 * port in $PORT).
 */
import { realtime, run } from "@rally/rally/client";

const port = Deno.env.get("PORT") ?? "8000";
const url = Deno.args[0] ?? \`http://127.0.0.1:\${port}\`;

// HTTP: one request, one answer.
console.log(await run(url, { input: { prompt: "hello" } }));

// Realtime: one connection, as many messages as you like (here two).
await using conn = await realtime(url, { path: "/realtime" });
for (const prompt of ["hello", "again"]) {
  conn.send({ prompt });
  console.log(await conn.receive());
}
`;

const TEST_TS = `import assert from "node:assert/strict";
import { testClient } from "@rally/rally/testing";
import app from "./main.ts";

// testClient(app) serves the App in memory (no port): its routing, schemas and
// realtime sessions run as under \`deno task start\`.

Deno.test("POST / replies to a prompt", async () => {
  await using t = testClient(app);
  const output = await t.run("/", { prompt: "hi" });
  assert.deepEqual(output, { reply: "You said: hi" });
});

Deno.test("/realtime answers each message on one connection", async () => {
  await using t = testClient(app);
  await using conn = await t.realtime("/realtime");
  conn.send({ prompt: "hi" });
  assert.deepEqual(await conn.receive(), { upper: "HI" });
  conn.send({ prompt: "again" });
  assert.deepEqual(await conn.receive(), { upper: "AGAIN" });
});
`;

function readme(name: string, source: RallySource): string {
  const from = source.link
    ? `rally comes from a local copy (\`links\` in deno.json): its own deno.json resolves
rally's npm dependencies, and nothing is fetched from JSR. Once rally is on JSR,
remove \`links\` to use the published package.`
    : "rally comes from JSR (`jsr:@rally/rally` in deno.json).";
  return `# ${name}

A [rally](https://jsr.io/@rally/rally) App: \`main.ts\` has an HTTP endpoint
(\`POST /\`) and a realtime endpoint (\`/realtime\`, msgpack over a WebSocket).

\`\`\`sh
deno task dev     # serve main.ts on 127.0.0.1:8000, reload on change
deno task client  # in another shell: call both endpoints
deno task test    # run main_test.ts
deno task start   # serve it as in production (0.0.0.0:8000 or $PORT)
\`\`\`

While it runs, http://127.0.0.1:8000/docs is a playground for every endpoint.

${from}
`;
}
