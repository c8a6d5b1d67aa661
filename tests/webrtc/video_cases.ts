/**
 * Video tracks on a WebRTC endpoint, Deno to Deno on loopback with libwebrtc on both sides: the
 * client sends numbered I420 frames on a video track, the server's `video` handler transforms
 * them, and the client reads them back from the server's track.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { VideoPeer } from "../../bench/harness/video_peer.ts";
import { connect } from "../../client/mod.ts";
import { App, type Context, type VideoFrame } from "../../server/mod.ts";
import { delay, listen, waitFor, within } from "../_realtime_helpers.ts";
import { wrtc } from "./_wrtc.ts";

const LOOPBACK = { iceCandidates: "loopback" } as const;

/** Darken the luma below the stamp strip (the top 16 rows), as a cheap filter. */
function darken(frame: VideoFrame): { width: number; height: number; data: Uint8Array } {
  const data = frame.data.slice();
  for (let i = frame.width * 16; i < frame.width * frame.height; i++) data[i] >>= 1;
  return { width: frame.width, height: frame.height, data };
}

Deno.test("a video handler's frames come back on the server's track, in order", async () => {
  const seen: { width: number; height: number; bytes: number; rgba: number; ctx: Context }[] = [];
  const app = new App().webrtc("/video", {
    ...LOOPBACK,
    video: (frame, ctx) => {
      seen.push({
        width: frame.width,
        height: frame.height,
        bytes: frame.data.length,
        rgba: frame.index === 0 ? frame.rgba().length : -1,
        ctx,
      });
      return darken(frame);
    },
  });
  await using server = listen(app);
  await using peer = await within(VideoPeer.open(server.http, "/video"), "the video peer");
  await peer.stream(30, 1_000);
  const numbers: number[] = [];
  while (numbers.length < 20) {
    const returned = await within(peer.frames.next(), "a returned frame");
    assert.ok(returned, "the track ended");
    assert.equal(returned.frame.width, 320);
    if (returned.n !== undefined) numbers.push(returned.n);
    // The filter ran: a pixel below the strip is darkened from 128 (VP8 moves it a little).
    const pixel = returned.frame.data[320 * 100 + 160];
    assert.ok(pixel < 90, `pixel ${pixel}`);
  }
  for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i] > numbers[i - 1], `${numbers}`);
  assert.deepEqual(
    [seen[0].width, seen[0].height, seen[0].bytes, seen[0].rgba],
    [320, 240, 320 * 240 * 3 / 2, 320 * 240 * 4],
  );
  assert.equal(typeof seen[0].ctx.requestId, "string");
  assert.equal(app.sessionCount, 1);
});

Deno.test("a slow async video handler sees the newest frame; skipped ones are counted", async () => {
  let running = 0;
  let most = 0;
  let calls = 0;
  const app = new App().webrtc("/video", {
    ...LOOPBACK,
    video: async (frame, ctx) => {
      calls++;
      most = Math.max(most, ++running);
      await delay(150, ctx.signal).catch(() => {}); // cut short when the session ends
      running--;
      return frame;
    },
  });
  await using server = listen(app);
  await using peer = await within(VideoPeer.open(server.http, "/video"), "the video peer");
  await peer.stream(30, 1_500);
  await waitFor(() => peer.dropped > 0, "a dropped count from the server");
  assert.equal(most, 1, "never two calls at once");
  assert.ok(calls <= 12, `${calls} calls in 1.5 s of a 150 ms handler`);
  assert.ok(peer.dropped >= 20, `${peer.dropped} dropped`);
});

Deno.test("videoSize scales frames for the handler; maxFps caps the calls", async () => {
  const sizes = new Set<string>();
  let calls = 0;
  const app = new App().webrtc("/video", {
    ...LOOPBACK,
    videoSize: { width: 160, height: 120 },
    maxFps: 10,
    video: (frame) => {
      calls++;
      sizes.add(`${frame.width}x${frame.height}:${frame.data.length}`);
      return frame;
    },
  });
  await using server = listen(app);
  await using peer = await within(VideoPeer.open(server.http, "/video"), "the video peer");
  await peer.stream(30, 2_000);
  const returned = await within(peer.frames.next(), "a returned frame");
  assert.equal(returned?.frame.width, 160);
  assert.deepEqual([...sizes], [`160x120:${160 * 120 * 3 / 2}`]);
  assert.ok(calls >= 8 && calls <= 24, `${calls} calls in 2 s at maxFps 10`);
});

Deno.test("a DataChannel route on the same peer switches the video filter live", async () => {
  let dark = false;
  const app = new App()
    .realtime("/control", { input: z.object({ dark: z.boolean() }) }, (input) => {
      dark = input.dark;
      return { dark };
    })
    .webrtc("/video", {
      ...LOOPBACK,
      endpoint: "/control",
      video: (frame) => (dark ? darken(frame) : frame),
    });
  await using server = listen(app);
  const results: unknown[] = [];
  await using peer = await within(
    VideoPeer.open(server.http, "/video", undefined, { onResult: (r) => results.push(r) }),
    "the video peer",
  );
  const level = async () => {
    await peer.stream(30, 300);
    let last;
    for (let i = 0; i < 5; i++) last = await within(peer.frames.next(), "a frame");
    return last!.frame.data[320 * 100 + 160];
  };
  assert.ok((await level()) > 100);
  peer.handle.send({ dark: true });
  await waitFor(() => results.length === 1, "the control output");
  assert.deepEqual(results, [{ dark: true }]);
  // Frames already on their way were not darkened: read until one is.
  let darkened = false;
  for (let i = 0; i < 10 && !darkened; i++) darkened = (await level()) < 90;
  assert.ok(darkened, "the filter switched");
});

Deno.test("an audio track next to the video is ignored", async () => {
  let calls = 0;
  const app = new App().webrtc("/video", {
    ...LOOPBACK,
    video: (frame) => {
      calls++;
      return frame;
    },
  });
  await using server = listen(app);
  const audio = new wrtc.nonstandard.RTCAudioSource();
  const track = audio.createTrack();
  const pc = new wrtc.RTCPeerConnection({});
  pc.addTrack(track);
  try {
    await using peer = await within(
      VideoPeer.open(server.http, "/video", undefined, {
        RTCPeerConnection: function () {
          return pc;
        } as unknown as never,
      }),
      "the video peer with audio",
    );
    const samples = new Int16Array(480);
    for (let i = 0; i < 30; i++) {
      audio.onData({ samples, sampleRate: 48_000 });
      peer.send();
      await delay(33);
    }
    await within(peer.frames.next(), "a returned frame");
    assert.ok(calls > 0);
  } finally {
    track.stop();
  }
});

Deno.test("a video offer to an endpoint without a video handler is refused", async () => {
  const app = new App()
    .realtime("/realtime", {}, (input) => input)
    .webrtc("/webrtc", { ...LOOPBACK, endpoint: "/realtime" });
  await using server = listen(app);
  const errors: string[] = [];
  const failed = Promise.withResolvers<void>();
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const handle = connect(server.http, {
    path: "/webrtc",
    transport: "webrtc",
    video: track,
    reconnect: false,
    onResult: () => {},
    onError: (error) => {
      errors.push(error.reason);
      failed.resolve();
    },
  });
  try {
    await within(failed.promise, "the refusal");
    assert.match(errors.join(" "), /no `video` handler/);
  } finally {
    handle.close();
    track.stop();
  }
  await waitFor(() => app.sessionCount === 0, "the signaling session to end");
});
