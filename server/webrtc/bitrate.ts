/**
 * Video bitrate hints in a session description: libwebrtc's encoders (the browser's and the
 * server's) start at about 300 kbps and ramp up as bandwidth estimation allows, dropping frames
 * meanwhile. `x-google-{start,min,max}-bitrate` on each video codec's `a=fmtp` line tell the
 * encoder that reads the description where to start and stay.
 *
 * @example
 * ```ts
 * import { withVideoBitrate } from "./bitrate.ts";
 *
 * const sdp = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
 * const hinted = withVideoBitrate(sdp, { start: 1500, min: 800 });
 * if (!hinted.includes("a=fmtp:96 x-google-start-bitrate=1500;x-google-min-bitrate=800")) {
 *   throw new Error("no hint");
 * }
 * ```
 *
 * @module
 */

/**
 * Bitrates in kbps.
 *
 * @example
 * ```ts
 * import { App, type VideoBitrate } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // On a LAN or loopback: start high instead of libwebrtc's ~300 kbps ramp.
 * const videoBitrate: VideoBitrate = { start: 2000, min: 1000 };
 * const app = new App().webrtc("/webrtc", { video: (frame) => frame, videoBitrate });
 * assert.ok(app.openapi().paths["/webrtc"]);
 * ```
 */
export interface VideoBitrate {
  /** Where the encoder starts. */
  start?: number;
  /** The least it goes down to. */
  min?: number;
  /** The most it goes up to. */
  max?: number;
}

/** Video codecs whose fmtp lines get the hints (not rtx, red, ulpfec). */
const CODECS = /^a=rtpmap:(\d+) (VP8|VP9|H264|AV1)\/90000/;

/**
 * Add the hints to every video codec of a session description.
 *
 * @param sdp The description.
 * @param bitrate The bitrates; none set leaves the description as it is.
 * @returns The description with the hints.
 */
export function withVideoBitrate(sdp: string, bitrate: VideoBitrate | undefined): string {
  const params = [
    bitrate?.start && `x-google-start-bitrate=${Math.round(bitrate.start)}`,
    bitrate?.min && `x-google-min-bitrate=${Math.round(bitrate.min)}`,
    bitrate?.max && `x-google-max-bitrate=${Math.round(bitrate.max)}`,
  ].filter(Boolean).join(";");
  if (!params) return sdp;
  const lines = sdp.split("\r\n");
  const types = new Set<string>();
  for (const line of lines) {
    const match = CODECS.exec(line);
    if (match) types.add(match[1]);
  }
  const out: string[] = [];
  const withFmtp = new Set<string>();
  for (const line of lines) {
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp && types.has(fmtp[1])) {
      withFmtp.add(fmtp[1]);
      out.push(`a=fmtp:${fmtp[1]} ${fmtp[2]};${params}`);
      continue;
    }
    out.push(line);
    const codec = CODECS.exec(line);
    if (codec && !lines.some((other) => other.startsWith(`a=fmtp:${codec[1]} `))) {
      out.push(`a=fmtp:${codec[1]} ${params}`);
    }
  }
  return out.join("\r\n");
}
