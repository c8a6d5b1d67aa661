import assert from "node:assert/strict";
import { realtime, RealtimeError } from "../client/mod.ts";
import app, { MAX_PIXELS } from "../examples/camera/app.ts";
import { applyFilter } from "../examples/camera/filter.ts";
import { readStampRgba, stampRgba } from "../examples/camera/stamp.js";
import { listen } from "./_realtime_helpers.ts";

Deno.test("camera app: serves its page, its script and rally's client bundle", async () => {
  await using server = listen(app);
  const page = await fetch(`${server.http}/`);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await page.text(), /<script type="module" src="\/client\.js"><\/script>/);
  const script = await fetch(`${server.http}/client.js`);
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await script.text(), /const RALLY_BUNDLE = "\/rally\.js"/);
  const rally = await (await fetch(`${server.http}/rally.js`)).text();
  assert.match(rally, /^export \{[^}]*\bconnect\b/m, "an ES module exporting connect()");
  assert.doesNotMatch(rally, /@roamhq\/wrtc\//, "no native WebRTC module in the bundle");
  assert.doesNotMatch(rally, /\bDeno\./, "nothing Deno-only");
});

Deno.test("camera app: /filter filters a frame and refuses frames too large or malformed", async () => {
  await using server = listen(app);
  await using conn = await realtime(server.http, { path: "/filter" });
  const frame = new Uint8Array(4 * 3 * 4);
  for (let i = 0; i < frame.length; i += 4) frame.set([(i / 4) % 4 < 2 ? 0 : 200, 0, 0, 255], i);
  conn.send({ frame, width: 4, height: 3, filter: "edges", seq: 7 });
  const output = await conn.receive() as Record<string, unknown>;
  assert.deepEqual(output.frame, applyFilter(frame, { width: 4, height: 3, filter: "edges" }));
  assert.equal(output.seq, 7);
  assert.equal(output.width, 4);
  assert.equal(typeof output.filterMs, "number");

  // A frame wide enough for the page's frame-number stamp gets its strip back unfiltered.
  const wide = new Uint8Array(256 * 20 * 4).fill(200);
  stampRgba(wide, 256, 4321);
  conn.send({ frame: wide, width: 256, height: 20, filter: "edges" });
  const stamped = await conn.receive() as { frame: Uint8Array };
  assert.equal(readStampRgba(stamped.frame, 256), 4321);

  const side = Math.ceil(Math.sqrt(MAX_PIXELS)) + 1;
  for (
    const input of [
      { frame: new Uint8Array(side * side * 4), width: side, height: side, filter: "blur" },
      { frame: new Uint8Array(10), width: 4, height: 3, filter: "edges" },
      { frame, width: 4, height: 3, filter: "sepia" },
    ]
  ) {
    conn.send(input);
    await assert.rejects(conn.receive(), (error: unknown) => {
      assert.ok(error instanceof RealtimeError);
      assert.equal(error.code, "INVALID_INPUT");
      return true;
    });
  }
});
