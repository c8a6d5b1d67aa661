/**
 * A page written in fal's WebRTC demo pattern (`fal_pattern.html`: plain WebSocket, JSON
 * signaling, RTCPeerConnection, no rally code) against a rally WebRTC endpoint with
 * `signaling: "json"` and a video handler, in Debian's chromium with its fake camera: the page
 * gets `ready`, its offer is answered, and the server's track plays frames the handler made.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { App } from "../../server/mod.ts";
import { listen, within } from "../_realtime_helpers.ts";
import { ARGS, CHROMIUM, MISSING } from "./_chromium.ts";

const CI = Deno.env.get("CI") === "true";
const STEP_MS = 30_000;
const missing = MISSING;

Deno.test({
  name: "a page in fal's demo pattern plays a rally endpoint's video track, in chromium",
  ignore: missing && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(!missing, `${CHROMIUM} is required with CI=true (apt-get install chromium)`);
    const page = await Deno.readTextFile(new URL("./fal_pattern.html", import.meta.url));
    let handled = 0;
    const app = new App()
      .get("/", () => new Response(page, { headers: { "content-type": "text/html" } }))
      .webrtc("/fal", {
        signaling: "json",
        iceCandidates: "loopback",
        video: (frame) => {
          handled++;
          return frame;
        },
      });
    await using server = listen(app);
    const userDataDir = await Deno.makeTempDir({ prefix: "rally-chromium-" });
    const context = await within(
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        timeout: STEP_MS,
      }),
      "chromium to start",
      STEP_MS + 5_000,
    );
    try {
      const tab = await context.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (error) => errors.push(error.message));
      await tab.goto(`${server.http}/`, { timeout: STEP_MS });
      await tab.waitForFunction(
        "JSON.parse(document.getElementById('status').textContent).frames >= 30",
        undefined,
        { timeout: STEP_MS, polling: 100 },
      );
      const status = JSON.parse(await tab.textContent("#status") ?? "{}");
      console.log(`fal pattern page: ${status.frames} frames played, ${handled} handled`);
      assert.deepEqual([status.ready, status.answered, status.track], [true, true, true]);
      assert.deepEqual(status.errors, []);
      assert.deepEqual(errors, []);
      assert.ok(handled >= 30, `${handled} frames through the handler`);
      await tab.close({ runBeforeUnload: false });
    } finally {
      await within(context.close(), "chromium to close", STEP_MS);
      await Deno.remove(userDataDir, { recursive: true });
    }
  },
});
