/**
 * The playground (`GET /docs`) in a real browser: Debian's chromium, headless, driven by
 * `playwright-core` (which never downloads a browser). On the example app
 * (`examples/realtime_app.ts`) each panel is used as a person would: fill an input, send it, see
 * the right output; realtime also shows `hello`, an `INVALID_INPUT` frame and a valid answer
 * after it, and a burst. A second App covers the SSE panel (events, cancel) and a bytes field
 * filled from a file; the image example (`examples/image_app.ts`) shows PNG bytes in outputs as
 * an image; a third App covers auth (the sign-in form, a key traded for a token that
 * the page uses for its requests and sockets).
 *
 * The screenshot goes to `tests/browser/out/playground.png` (ignored by git); pass
 * `-- --save-screenshot` to write `docs/playground.png`, the README's.
 *
 * Run with `deno task test:browser`. Without chromium the test is skipped, unless `CI=true`,
 * where it fails.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { BrowserContext, Page } from "playwright-core";

/** What the page functions below use of the DOM (these tests are type-checked without it). */
interface Document {
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }> & { length: number };
}
import { z } from "zod";
import example from "../../examples/realtime_app.ts";
import imageApp from "../../examples/image_app.ts";
import { App, type Schema } from "../../server/mod.ts";
import { listen } from "../_realtime_helpers.ts";
import { CHROMIUM, MISSING, withChromium } from "./_chromium.ts";

const CI = Deno.env.get("CI") === "true";
const SCREENSHOT = Deno.args.includes("--save-screenshot")
  ? new URL("../../docs/playground.png", import.meta.url)
  : new URL("./out/playground.png", import.meta.url);
/** The longest any one browser step may take. */
const STEP_MS = 20_000;
const KEY = "playground-test-key";
const SECRET = "a test secret that is long enough for HS256";
/** A 1x1 PNG. */
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

const missing = MISSING;
if (missing && !CI) console.warn(`${CHROMIUM} is not installed: skipping the browser test`);

/**
 * A schema for `{ image: Uint8Array, note?: string }` whose JSON Schema says `format: binary`, as
 * OpenAPI describes bytes fields.
 */
const ImageInput: Schema<{ image: Uint8Array; note?: string }> = {
  "~standard": {
    version: 1,
    vendor: "playground-test",
    validate(value: unknown) {
      const input = value as { image?: unknown; note?: unknown } | null;
      return input && typeof input === "object" && input.image instanceof Uint8Array
        ? { value: input as { image: Uint8Array; note?: string } }
        : { issues: [{ message: "image must be bytes", path: ["image"] }] };
    },
    jsonSchema: {
      input: () => ({
        type: "object",
        properties: {
          image: { type: "string", format: "binary", contentMediaType: "image/png" },
          note: { type: "string", default: "a note" },
        },
        required: ["image"],
      }),
      output: () => ({}),
    },
  },
} as unknown as Schema<{ image: Uint8Array; note?: string }>;

const Prompt = z.object({ prompt: z.string() });

/** SSE streams and a bytes endpoint. */
function extrasApp(): App {
  return new App({ name: "extras" })
    .stream("/steps", { input: Prompt }, async function* (input) {
      for (let step = 0; step < 3; step++) yield { step, prompt: input.prompt };
    })
    .stream("/ticks", { input: Prompt }, async function* (_input, ctx) {
      // Ticks until the client cancels (bounded: 60 s).
      for (let tick = 0; tick < 600 && !ctx.signal.aborted; tick++) {
        yield { tick };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })
    .realtime(
      "/collect",
      { input: Prompt, output: z.object({ output: z.string() }), mode: "client_streaming" },
      async (inputs) => {
        const prompts: string[] = [];
        for await (const input of inputs) prompts.push(input.prompt);
        return { output: prompts.join(" ") };
      },
    )
    .realtime("/slow", { input: Prompt, buffering: 1 }, async (input) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { output: input.prompt };
    })
    .endpoint("/thumbnail", { input: ImageInput }, (input) => ({
      bytes: input.image.length,
      note: input.note,
      image: input.image,
    }));
}

function secureApp(): App {
  return new App({ name: "secure", auth: { keys: [KEY], secret: SECRET } })
    .endpoint("/", { input: Prompt }, (input) => ({ output: input.prompt }))
    .realtime("/realtime", { input: Prompt }, (input) => ({ output: input.prompt }));
}

Deno.test({
  name: "playground: every panel works in headless chromium, with and without auth",
  ignore: missing && !CI,
  // playwright-core talks to chromium over pipes that Deno's Node layer keeps as resources.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    assert.ok(!missing, `${CHROMIUM} is required with CI=true (apt-get install chromium)`);
    await using server = listen(example);
    await using extras = listen(extrasApp());
    await using secure = listen(secureApp());
    await using images = listen(imageApp);
    const window = { width: 1100, height: 820 };
    await withChromium(
      { stepMs: STEP_MS, viewport: window, colorScheme: "light" },
      async (context) => {
        context.setDefaultTimeout(STEP_MS);
        await t.step(
          "the example app: GET / lands on /docs; HTTP, realtime, WebSocket",
          () =>
            withPage(context, async (page) => {
              await page.goto(`${server.http}/`);
              assert.equal(
                new URL(page.url()).pathname,
                "/docs",
                "a browser at / is sent to /docs",
              );
              await ready(page);
              assert.deepEqual(await navigation(page), [
                "HTTP",
                "/",
                "Realtime",
                "/realtime",
                "WebSocket",
                "/echo",
              ]);
              await httpPanel(page);
              await websocketPanel(page);
              await realtimePanel(page);
            }),
        );
        await t.step(
          "SSE events, then cancel; End for client streaming; bytes from a file",
          () =>
            withPage(context, async (page) => {
              await page.goto(`${extras.http}/docs`);
              await ready(page);
              await ssePanel(page);
              await endOfInput(page);
              await drops(page);
              await bytesField(page);
            }),
        );
        await t.step(
          "bytes in outputs: the image example's PNG is shown as an image",
          () =>
            withPage(context, async (page) => {
              await page.goto(`${images.http}/docs`);
              await ready(page);
              assert.equal(
                await page.textContent("nav button[data-path='/realtime'] .mode"),
                "server_streaming",
              );
              await page.click(".panel .connect");
              await page.waitForSelector(".entry[data-tag='hello']");
              await page.fill(".panel textarea", '{"prompt": "a cat", "steps": 3, "size": 32}');
              await page.click(".panel .send");
              await page.waitForSelector(".entry.error[data-tag='TIMEOUT']");
              assert.equal(
                await page.locator(".entry.output").count(),
                4,
                "3 steps, then the image",
              );
              const last = page.locator(".entry.output").last();
              assert.match(await last.textContent() ?? "", /"image":"<bytes: [\d.]+ (B|KiB)>"/);
              assert.match(await last.textContent() ?? "", /image\/png/);
              assert.equal(await last.locator(".preview img").count(), 1);
            }),
        );
        await t.step(
          "auth: the sign-in form takes a key; requests and sockets use a token",
          () =>
            withPage(context, async (page) => {
              const refused = await page.goto(`${secure.http}/docs`);
              assert.equal(refused?.status(), 401);
              await page.fill("#credentials", KEY);
              await page.click("#sign-in button");
              await page.waitForURL(/\/docs\?token=/);
              await ready(page);
              await page.click("nav button[data-path='/']");
              await page.fill(".panel textarea", '{"prompt": "let in"}');
              await page.click(".panel .send");
              await page.waitForSelector(".status-line.ok");
              assert.match(await page.textContent(".result") ?? "", /"output": "let in"/);
              await page.click("nav button[data-path='/realtime']");
              await page.click(".panel .connect");
              await page.waitForSelector(".entry[data-tag='hello']");
              await page.fill(".panel textarea", '{"prompt": "socket let in"}');
              await page.click(".panel .send");
              await page.waitForSelector('.entry.output:has-text("socket let in")');
            }),
        );
      },
    );
  },
});

/** Open a page, run `steps`, and fail on any page error or console error. */
async function withPage(context: BrowserContext, steps: (page: Page) => Promise<void>) {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // Chromium logs each 4xx answer; the 401 of the sign-in page and the 422 of an invalid
    // input are expected.
    if (message.type() === "error" && !/status of (401|422)\b/.test(message.text())) {
      errors.push(`console error: ${message.text()}`);
    }
  });
  // No request may leave the App's origin (no CDN).
  const origin = new URL(await context.pages()[0]?.url() || "about:blank").origin;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.hostname !== "127.0.0.1" && url.protocol !== "blob:" && url.protocol !== "data:") {
      errors.push(`request outside the app: ${request.url()} (${origin})`);
    }
  });
  try {
    await steps(page);
    assert.deepEqual(errors, [], "the page threw, logged errors or left the app");
  } catch (error) {
    const status = await page.textContent("#status", { timeout: 1_000 }).catch(() => null);
    throw new Error(`${(error as Error).message}\npage status: ${status}\n${errors.join("\n")}`, {
      cause: error,
    });
  } finally {
    await page.close({ runBeforeUnload: false });
  }
}

async function ready(page: Page): Promise<void> {
  await page.waitForSelector("#app[data-ready='true']");
}

/** The navigation's group titles and route paths, in order. */
function navigation(page: Page): Promise<string[]> {
  return page.$$eval(
    "nav h3, nav button",
    (nodes) => nodes.map((node) => node.getAttribute("data-path") ?? node.textContent ?? ""),
  );
}

async function httpPanel(page: Page): Promise<void> {
  await page.click("nav button[data-path='/']");
  const editor = page.locator(".panel textarea");
  assert.deepEqual(
    JSON.parse(await editor.inputValue()),
    { prompt: "" },
    "a skeleton of the schema",
  );
  await editor.fill('{"prompt": "hello over http"}');
  await page.click(".panel .send");
  await page.waitForSelector(".status-line.ok");
  assert.match(await page.textContent(".status-line") ?? "", /^200 OK · [\d.]+ m?s$/);
  assert.match(await page.textContent(".result") ?? "", /"output": "hello over http"/);
  await editor.fill('{"prompt": 5}');
  await page.click(".panel .send");
  await page.waitForSelector(".status-line.bad");
  assert.match(await page.textContent(".status-line") ?? "", /^422 · /);
  assert.match(await page.textContent(".result") ?? "", /"loc"/);
}

async function websocketPanel(page: Page): Promise<void> {
  await page.click("nav button[data-path='/echo']");
  await page.click(".panel .connect");
  await page.waitForSelector(".entry[data-tag='open']");
  await page.fill(".panel textarea", "hi");
  await page.click(".panel .send-text");
  // The example's /echo answers hi-0, hi-1, hi-2 (the message and its index), then closes.
  await page.waitForSelector(".entry[data-tag='close']");
  const received = await page.$$eval(
    ".entry.in.output pre",
    (nodes) => nodes.map((node) => node.textContent),
  );
  assert.deepEqual(received, ["hi-0", "hi-1", "hi-2"]);
  assert.match(await page.textContent(".entry[data-tag='close']") ?? "", /code 1000/);
}

async function realtimePanel(page: Page): Promise<void> {
  await page.click("nav button[data-path='/realtime']");
  await page.click(".panel .connect");
  await page.waitForSelector(".entry.meta[data-tag='hello']");
  assert.match(
    await page.textContent(".limits") ?? "",
    /buffering unbounded · maxBatchSize 1 · sessionTimeout none/,
  );
  const editor = page.locator(".panel textarea");
  await editor.fill('{"prompt": 5}');
  await page.click(".panel .send");
  const invalid = await page.waitForSelector(".entry.error[data-tag='INVALID_INPUT']");
  assert.match(await invalid.textContent() ?? "", /"issues"/);
  await editor.fill('{"prompt": "hello over realtime"}');
  await page.click(".panel .send");
  const answer = await page.waitForSelector('.entry.output:has-text("hello over realtime")');
  const answered = await answer.textContent() ?? "";
  assert.match(answered, /#2 · rtt [\d.]+ m?s/, `the answer to input #2: ${answered}`);
  await Deno.mkdir(new URL(".", SCREENSHOT), { recursive: true });
  const log = await page.locator(".panel .log").boundingBox();
  const height = Math.ceil((log?.y ?? 780) + (log?.height ?? 0) + 24);
  await page.screenshot({ path: SCREENSHOT.pathname, clip: { x: 0, y: 0, width: 1100, height } });
  console.log(`screenshot: ${SCREENSHOT.pathname}`);
  await page.fill(".panel input[type='number']", "20");
  await page.click(".panel .burst");
  await page.waitForSelector(".entry.input[data-tag='burst ×20']");
  // Unbounded buffering: every input of the burst is answered, in order.
  await page.waitForSelector('.entry.output:has-text("#22 · rtt")');
  assert.equal(await page.locator(".entry.output").count(), 21, "#2 and the 20 of the burst");
}

async function ssePanel(page: Page): Promise<void> {
  await page.click("nav button[data-path='/steps']");
  await page.fill(".panel textarea", '{"prompt": "streamed"}');
  await page.click(".panel .send");
  await page.waitForSelector(".entry[data-tag='end']");
  const events = await page.$$eval(
    ".entry.output pre",
    (nodes) => nodes.map((node) => JSON.parse(node.textContent ?? "null")),
  );
  assert.deepEqual(events, [0, 1, 2].map((step) => ({ step, prompt: "streamed" })));
  assert.match(await page.textContent(".status-line") ?? "", /^ended · 3 events/);

  await page.click("nav button[data-path='/ticks']");
  await page.fill(".panel textarea", '{"prompt": "ticks"}');
  await page.click(".panel .send");
  await page.waitForSelector(".entry.output[data-tag='event 3']");
  await page.click(".panel .cancel");
  await page.waitForSelector(".entry[data-tag='cancel']");
  assert.match(await page.textContent(".status-line") ?? "", /^cancelled · \d+ events/);
}

async function endOfInput(page: Page): Promise<void> {
  await page.click("nav button[data-path='/collect']");
  assert.equal(
    await page.textContent("nav button[data-path='/collect'] .mode"),
    "client_streaming",
  );
  await page.click(".panel .connect");
  await page.waitForSelector(".entry[data-tag='hello']");
  for (const prompt of ["one", "two"]) {
    await page.fill(".panel textarea", JSON.stringify({ prompt }));
    await page.click(".panel .send");
  }
  assert.equal(await page.locator(".entry.output").count(), 0, "nothing before the end");
  await page.click(".panel .end");
  const output = await page.waitForSelector('.entry.output:has-text("one two")');
  assert.match(await output.textContent() ?? "", /after #2/);
  // The session ends normally after its one output.
  await page.waitForSelector(".entry.error[data-tag='TIMEOUT']");
  assert.match(await page.textContent(".entry[data-tag='close']") ?? "", /code 1000/);
}

async function drops(page: Page): Promise<void> {
  await page.click("nav button[data-path='/slow']");
  await page.click(".panel .connect");
  await page.waitForSelector(".entry[data-tag='hello']");
  assert.match(await page.textContent(".limits") ?? "", /buffering 1 ·/);
  await page.fill(".panel textarea", '{"prompt": "latest"}');
  await page.fill(".panel input[type='number']", "5");
  await page.click(".panel .burst");
  // buffering 1 and a 50 ms handler: #1 is handled, #2..#4 drop as newer inputs arrive, #5 wins.
  // Functions run in the page: they reach `document` through globalThis (no DOM types here).
  await page.waitForFunction(() => {
    const { document } = globalThis as unknown as { document: Document };
    const rows = [...document.querySelectorAll(".entry.meta[data-tag='dropped'] pre")];
    return rows.reduce((sum, node) => sum + JSON.parse(node.textContent ?? "{}").count, 0) === 3;
  });
  await page.waitForFunction(() => {
    const { document } = globalThis as unknown as { document: Document };
    return document.querySelectorAll(".entry.output").length === 2;
  });
  const labels = await page.$$eval(
    ".entry.output .rtt",
    (nodes) => nodes.map((node) => node.textContent ?? ""),
  );
  assert.match(labels[0], /^≈?#1 · rtt/, "several inputs were waiting: the match may be marked ≈");
  await page.click(".panel .disconnect");
  await page.waitForSelector(".entry[data-tag='close']");
}

async function bytesField(page: Page): Promise<void> {
  await page.click("nav button[data-path='/thumbnail']");
  const editor = page.locator(".panel textarea");
  assert.deepEqual(
    JSON.parse(await editor.inputValue()),
    { note: "a note" },
    "bytes come from a file",
  );
  await page.setInputFiles(".panel input[type='file'][data-field='image']", {
    name: "dot.png",
    mimeType: "image/png",
    buffer: Buffer.from(PNG),
  });
  await page.waitForSelector(".bytes-field .preview img");
  await page.click(".panel .send");
  await page.waitForSelector(".status-line.ok");
  const result = await page.textContent(".result") ?? "";
  assert.match(result, new RegExp(`"bytes": ${PNG.length}`));
  assert.match(result, /"image": "<bytes: \d+ B>"/);
  assert.match(result, /image\/png/, "the output's bytes are previewed as an image");
  assert.equal(await page.locator(".result .preview img").count(), 1);
}
