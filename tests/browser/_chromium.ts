/** Debian's chromium for the browser tests: where it is, and how it is launched. */
import { type BrowserContext, chromium } from "playwright-core";
import { within } from "../_realtime_helpers.ts";

/** The browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether it is missing. */
export const MISSING: boolean = (() => {
  try {
    return !Deno.statSync(CHROMIUM).isFile;
  } catch {
    return true;
  }
})();

/** Headless flags: fake camera, WebRTC on loopback, nothing in the background. */
export const ARGS: string[] = [
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  // Timers at full rate: a page's 30 fps tick must not be throttled as a background page's.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

/** How a test's chromium is opened. */
export interface ChromiumOptions {
  /** The longest one step may take, starting and closing included. */
  stepMs: number;
  /** The window's size. */
  viewport?: { width: number; height: number };
  /** The page's colour scheme. */
  colorScheme?: "light" | "dark";
}

/**
 * Run `fn` with a headless chromium on a new, empty profile; close it and remove the profile
 * afterwards, whatever `fn` did.
 *
 * @param options Timeouts and window.
 * @param fn The test's use of the browser.
 */
export async function withChromium(
  options: ChromiumOptions,
  fn: (context: BrowserContext) => Promise<void>,
): Promise<void> {
  const userDataDir = await Deno.makeTempDir({ prefix: "rally-chromium-" });
  try {
    const context = await within(
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: options.viewport,
        colorScheme: options.colorScheme,
        timeout: options.stepMs,
      }),
      "chromium to start",
      options.stepMs + 5_000,
    );
    try {
      await fn(context);
    } finally {
      await within(context.close(), "chromium to close", options.stepMs);
    }
  } finally {
    await Deno.remove(userDataDir, { recursive: true });
  }
}
