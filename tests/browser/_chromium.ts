/** Debian's chromium for the browser tests: where it is, and how it is launched. */

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
