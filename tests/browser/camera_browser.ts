/**
 * The camera demo (`examples/camera/app.ts`) in a real browser: Debian's chromium, headless,
 * driven by `playwright-core` (which never downloads a browser), with Chromium's fake camera.
 * For each transport the page runs a few seconds against the App on a real port; the page must
 * see the camera, round-trip at least 30 frames with a plausible round trip, and throw nothing.
 * The websocket run's screenshot is saved to `docs/camera-demo.png`.
 *
 * Run with `deno task test:browser` (not part of `deno task test`: it needs chromium). Without
 * chromium the test is skipped, unless `CI=true`, where it fails.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import app from "../../examples/camera/app.ts";
import { listen, within } from "../_realtime_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = new URL("../../docs/camera-demo.png", import.meta.url);
/** How long the page runs per transport, at least. */
const RUN_MS = 5_000;
/** The longest any one browser step may take. */
const STEP_MS = 30_000;
/** The longest the page may take to round-trip 30 frames (WebRTC starts slowly on a busy machine). */
const FRAMES_MS = 45_000;
const ARGS = [
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

/**
 * Over WebRTC the page sends 160x120 frames (76.8 KB) instead of its default 256x192 (196.6 KB),
 * on its default latest-wins channel (unordered, no retransmits): a 196.6 KB message is some 170
 * SCTP chunks, and losing any one of them loses the frame; measured here, most 256x192 frames
 * were lost (2 to 8 fps, sometimes none for the first seconds), 160x120 ran at about 20 fps.
 */
const WEBRTC_QUERY = "&size=160x120";

/** What the page writes into `#status` (examples/camera/client.js), and how long it ran. */
interface PageStatus {
  /** Set by the test: seconds from opening the page to reading the status. */
  seconds: number;
  width: number;
  height: number;
  firstFrameMs: number | null;
  source: string;
  transport: string;
  frames: number;
  dropped: number;
  sent: number;
  rttMs: number | null;
  filterMs: number | null;
  fps: number;
  errors: number;
  lastError: string | null;
}

const missing = !exists(CHROMIUM);

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

if (missing && !CI) console.warn(`${CHROMIUM} is not installed: skipping the browser test`);

Deno.test({
  name: "camera demo: the page filters the fake camera over each transport in headless chromium",
  ignore: missing && !CI,
  // playwright-core talks to chromium over pipes that Deno's Node layer keeps as resources.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(!missing, `${CHROMIUM} is required with CI=true (apt-get install chromium)`);
    await using server = listen(app);

    const rally = await (await fetch(`${server.http}/rally.js`)).text();
    assert.match(rally, /\bconnect\b/, "/rally.js is rally's client bundle");
    // werift (the server's WebRTC peer) stays out: no module of its package (esbuild heads each
    // module with a `// path` comment) and no import of it. The word itself may appear: the
    // client's messages name it ("pass werift's RTCPeerConnection in Deno").
    assert.doesNotMatch(rally, /\/werift\//, "no werift module in /rally.js");
    assert.doesNotMatch(rally, /(from|import\(|require\()\s*["'](npm:)?werift/, "no werift import");
    assert.match(rally, /^\/\/ client\/connect\.ts$/m, "the bundle names its modules");

    const userDataDir = await Deno.makeTempDir({ prefix: "rally-chromium-" });
    const context = await within(
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: { width: 800, height: 450 },
        timeout: STEP_MS,
      }),
      "chromium to start",
      STEP_MS + 5_000,
    );
    try {
      console.log(`chromium ${context.browser()?.version() ?? "(version unknown)"}`);
      const transports = ["websocket", ...("webrtc" in app ? ["webrtc"] : [])];
      if (!transports.includes("webrtc")) console.warn("app.webrtc is missing: websocket only");
      for (const transport of transports) {
        const query = `transport=${transport}${transport === "webrtc" ? WEBRTC_QUERY : ""}`;
        const status = await runPage(context, `${server.http}/?${query}`, {
          screenshot: transport === "websocket" ? SCREENSHOT : undefined,
        });
        console.log(
          `camera demo over ${transport} (${status.width}x${status.height}): ${status.frames} frames round-tripped in ` +
            `${status.seconds.toFixed(1)} s, ` +
            `${status.dropped} dropped, ${status.fps} fps, median round trip ` +
            `${status.rttMs?.toFixed(1)} ms (server filter ${status.filterMs?.toFixed(1)} ms), ` +
            `first frame after ${status.firstFrameMs} ms`,
        );
        assert.equal(status.transport, transport);
        assert.equal(status.source, "camera", "the page sees chromium's fake camera");
        assert.ok(status.frames >= 30, `at least 30 frames round-tripped, got ${status.frames}`);
        assert.ok(
          status.rttMs !== null && status.rttMs > 0 && Number.isFinite(status.rttMs),
          `a plausible round trip, got ${status.rttMs}`,
        );
        assert.equal(status.errors, 0, `no rally errors, got ${status.lastError}`);
      }
    } finally {
      await within(context.close(), "chromium to close", STEP_MS);
      await Deno.remove(userDataDir, { recursive: true });
    }
  },
});

/**
 * Open the page, let it run for {@link RUN_MS} and until 30 frames have come back, and read its
 * status; fail on any page error or console error.
 */
async function runPage(
  context: Awaited<ReturnType<typeof chromium.launchPersistentContext>>,
  url: string,
  options: { screenshot?: URL },
): Promise<PageStatus> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console error: ${message.text()}`);
  });
  try {
    const started = performance.now();
    await page.goto(url, { timeout: STEP_MS });
    await page.waitForFunction(
      "JSON.parse(document.getElementById('status').textContent).frames >= 30",
      undefined,
      { timeout: FRAMES_MS, polling: 100 },
    );
    const left = RUN_MS - (performance.now() - started);
    if (left > 0) await page.waitForTimeout(left);
    const status: PageStatus = JSON.parse(
      await page.textContent("#status", { timeout: STEP_MS }) ?? "{}",
    );
    status.seconds = (performance.now() - started) / 1000;
    if (options.screenshot) {
      await page.screenshot({ path: options.screenshot.pathname, timeout: STEP_MS });
    }
    assert.deepEqual(errors, [], `the page at ${url} threw or logged errors`);
    return status;
  } catch (error) {
    const text = await page.textContent("#status", { timeout: 1_000 }).catch(() => null);
    throw new Error(`${(error as Error).message}\npage status: ${text}\n${errors.join("\n")}`, {
      cause: error,
    });
  } finally {
    await page.close({ runBeforeUnload: false });
  }
}
