/**
 * The bench's video-track scenario: a Deno peer (libwebrtc, `video_peer.ts`) sends numbered
 * I420 frames at 30 fps on a video track to the rally server's `/webrtc-video` endpoint, whose
 * video handler returns each frame as it is, and reads them back from the server's track. Frame
 * latency is from handing a frame to the video source to reading its copy from the sink
 * (encode, send, decode, handler, encode, send, decode).
 *
 * @module
 */
import type { VideoResult } from "./targets.ts";
import { VideoPeer } from "./video_peer.ts";

/**
 * Stream for `ms` and measure.
 *
 * @param url The rally server's base URL.
 * @param ms How long to stream (after a second of warm-up).
 * @returns The figures.
 */
export async function measureVideo(url: string, ms: number): Promise<VideoResult> {
  const width = 320;
  const height = 240;
  await using peer = await VideoPeer.open(url, "/webrtc-video", { width, height });
  await peer.stream(30, 1_000); // warm-up: bandwidth estimation, first key frame
  while (peer.frames.size > 0) await peer.frames.next();
  const sentBefore = peer.sent;
  const started = performance.now();
  const latencies: number[] = [];
  const reading = (async () => {
    for (;;) {
      const returned = await peer.frames.next();
      if (returned === undefined) return;
      if (returned.latencyMs !== undefined) latencies.push(returned.latencyMs);
      if (performance.now() - started > ms + 500) return;
    }
  })();
  await peer.stream(30, ms);
  const seconds = (performance.now() - started) / 1000;
  await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 600))]);
  const sent = peer.sent - sentBefore;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    size: `${width}x${height}`,
    seconds,
    fps: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    lostPercent: sent > 0 ? (100 * Math.max(0, sent - latencies.length)) / sent : 100,
  };
}
