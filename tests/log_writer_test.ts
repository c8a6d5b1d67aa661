import assert from "node:assert/strict";
import { LineWriter } from "../server/middleware/log_writer.ts";
import { spawnDeno } from "./_helpers.ts";
import { waitFor } from "./_realtime_helpers.ts";

const STARTUP_MS = 30_000;
const decoder = new TextDecoder();

/** A writer whose batches are kept as text. */
function captured(options: { flushMs?: number; maxBytes?: number } = {}) {
  const batches: string[] = [];
  const lines = new LineWriter((bytes) => batches.push(decoder.decode(bytes)), options);
  return { batches, lines };
}

Deno.test("LineWriter holds lines and writes them in order in one batch", () => {
  const { batches, lines } = captured({ flushMs: 60_000 });
  for (let i = 0; i < 3; i++) lines.write(`{"i":${i}}`);
  assert.deepEqual(batches, []);
  assert.equal(lines.pending, 3);
  lines.flush();
  assert.deepEqual(batches, ['{"i":0}\n{"i":1}\n{"i":2}\n']);
  lines.flush(); // nothing waits: no empty batch
  assert.equal(batches.length, 1);
});

Deno.test("LineWriter writes at once when maxBytes wait, and by itself after flushMs", async () => {
  const full = captured({ flushMs: 60_000, maxBytes: 20 });
  full.lines.write("0123456789");
  assert.equal(full.batches.length, 0);
  full.lines.write("0123456789"); // 22 with the newlines
  assert.deepEqual(full.batches, ["0123456789\n0123456789\n"]);

  const timed = captured({ flushMs: 20 });
  const start = performance.now();
  timed.lines.write("late");
  await waitFor(() => timed.batches.length === 1, "the timed flush");
  assert.ok(performance.now() - start >= 15, "not before flushMs");
  assert.deepEqual(timed.batches, ["late\n"]);
});

Deno.test("LineWriter writes long and non-ASCII lines whole, across batches of its buffer", () => {
  const { batches, lines } = captured({ flushMs: 60_000, maxBytes: 1 << 20 });
  const sent = ["é".repeat(50), "a", "€ 🎉 ".repeat(300), "", "ok"];
  for (const line of sent) lines.write(line);
  lines.flush();
  lines.write("second flush, same buffer");
  lines.flush();
  assert.equal(batches.join(""), sent.join("\n") + "\nsecond flush, same buffer\n");
});

Deno.test("LineWriter makes a line given as a function at the flush; one that throws is lost alone", () => {
  const { batches, lines } = captured({ flushMs: 60_000 });
  let made = 0;
  lines.write(() => `made ${++made}`);
  lines.write(() => {
    throw new Error("cannot make it");
  });
  lines.write("as is");
  assert.equal(made, 0, "not made before the flush");
  lines.flush();
  assert.deepEqual(batches, ["made 1\nas is\n"]);
});

Deno.test("LineWriter: a throwing write loses its batch, not the caller's work", () => {
  let calls = 0;
  const lines = new LineWriter(() => {
    calls++;
    throw new Error("EPIPE");
  }, { flushMs: 60_000 });
  lines.write("lost");
  lines.flush();
  assert.equal(calls, 1);
  assert.equal(lines.pending, 0);
  lines.write("next");
  lines.flush();
  assert.equal(calls, 2);
});

/**
 * A script that answers `count` requests with an App logging to stdout (and one with an App
 * that does not log), then ends as `ending` says, right after its last request.
 */
function logScript(count: number, ending: "return" | "exit" | "throw"): string {
  return `
    import { App } from "./server/mod.ts";
    const loud = new App({ name: 'lo"ud', log: true }).endpoint("/", {}, () => 1);
    const quiet = new App({ name: "quiet" }).endpoint("/", {}, () => 1);
    const post = (app, query) => app.fetch(new Request("http://rally.test/" + query, {
      method: "POST",
      headers: { "x-request-id": 'id "' + query.length + '"' },
    }));
    for (let i = 0; i < ${count}; i++) (await post(loud, "?token=t0k3n&i=" + i)).body?.cancel();
    (await post(quiet, "")).body?.cancel();
    ${ending === "exit" ? "Deno.exit(0);" : ending === "throw" ? 'throw new Error("bye");' : ""}
  `;
}

for (const ending of ["return", "exit", "throw"] as const) {
  Deno.test(`log: true writes every request's JSON line on stdout, none lost when the process ends (${ending})`, async () => {
    const count = 200;
    const child = spawnDeno(["eval", "--ext=ts", logScript(count, ending)]);
    const status = await child.exited(STARTUP_MS);
    assert.equal(status.success, ending !== "throw", child.output());
    const records = child.output().split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    assert.equal(records.length, count, child.output().slice(0, 2000));
    assert.deepEqual(records.map((record) => Number(record.query.split("i=")[1])), [
      ...Array(count).keys(),
    ]);
    for (const record of records) {
      assert.deepEqual(Object.keys(record), [
        "time",
        "level",
        "msg",
        "app",
        "requestId",
        "method",
        "path",
        "query",
        "status",
        "durationMs",
      ]);
      assert.equal(record.msg, "request");
      assert.equal(record.app, 'lo"ud'); // logs are off by default: "quiet" wrote nothing
      assert.match(record.requestId, /^id "\d+"$/);
      assert.equal(record.method, "POST");
      assert.equal(record.path, "/");
      assert.equal(record.status, 200);
      assert.equal(typeof record.durationMs, "number");
      assert.equal(new Date(Date.parse(record.time)).toISOString(), record.time);
      assert.ok(record.query.startsWith("?token=[REDACTED]&"));
    }
    assert.ok(!child.output().includes("t0k3n"));
  });
}

Deno.test("rally serve loses no log line at SIGTERM, and writes lines within about 100 ms while it serves", async () => {
  const child = spawnDeno([
    "run",
    "-A",
    "cli.ts",
    "serve",
    "examples/realtime_app.ts",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
  ]);
  const count = 100;
  try {
    const [, url] = await child.waitFor(/rally: serving \S+ on (http:\/\/\S+)\//, STARTUP_MS);
    const post = async (i: number) => {
      const response = await fetch(`${url}?i=${i}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: "hi" }),
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    };
    await post(0);
    await child.waitFor(/"msg":"request".*"query":"\?i=0"/, 5_000); // flushed while serving
    for (let i = 1; i < count; i++) await post(i);
  } finally {
    const status = await child.stop("SIGTERM");
    assert.equal(status.code, 0, child.output());
  }
  const queries = [...child.output().matchAll(/"msg":"request".*?"query":"\?i=(\d+)"/g)]
    .map((match) => Number(match[1]));
  assert.deepEqual(queries, [...Array(count).keys()]);
});
