/**
 * Video tracks on a WebRTC endpoint: each frame of the client's incoming track goes to the
 * endpoint's `video` handler, and what it returns goes out on the peer's outgoing video track.
 * One frame is handled at a time; a frame that arrives while the handler runs waits, and a newer
 * one replaces it (counted as dropped): the newest frame wins, nothing queues.
 *
 * @module
 */
import type { Context, Host } from "../context.ts";
import {
  exitBeforeTeardown,
  type I420Frame,
  type NativeTrack,
  type NativeVideoSink,
  type NativeVideoSource,
  type Wrtc,
} from "./wrtc.ts";

/**
 * One frame of the client's video track, as the `video` handler gets it.
 *
 * @example
 * ```ts
 * import type { VideoFrame } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // A 2x2 frame in I420: 4 bytes of Y, then 1 of U and 1 of V.
 * const frame: VideoFrame = {
 *   width: 2,
 *   height: 2,
 *   data: new Uint8Array([16, 16, 235, 235, 128, 128]),
 *   rgba: () => new Uint8ClampedArray(2 * 2 * 4),
 *   timestamp: performance.now(),
 *   index: 0,
 * };
 * assert.equal(frame.data.length, frame.width * frame.height * 3 / 2);
 * assert.equal(frame.rgba().length, frame.width * frame.height * 4);
 * ```
 */
export interface VideoFrame {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** The pixels in I420: `width * height` bytes of Y, then U and V at half resolution. */
  readonly data: Uint8Array;
  /**
   * The pixels as RGBA (`width * height * 4` bytes), converted by libwebrtc on the first call
   * and kept.
   *
   * @returns The RGBA bytes.
   */
  rgba(): Uint8ClampedArray;
  /** When the frame arrived, in milliseconds (`performance.now()`). */
  readonly timestamp: number;
  /** The frame's number on the incoming track, from 0 (dropped frames count too). */
  readonly index: number;
}

/**
 * What a `video` handler returns: a frame in I420 (`data`) or RGBA (`rgba`), or nothing to skip
 * the frame.
 *
 * @example
 * ```ts
 * import type { VideoOutput } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const red: VideoOutput = { width: 1, height: 1, rgba: new Uint8Array([255, 0, 0, 255]) };
 * const grey: VideoOutput = { width: 2, height: 2, data: new Uint8Array(6).fill(128) };
 * assert.ok("rgba" in red && "data" in grey);
 * ```
 */
export type VideoOutput =
  | { width: number; height: number; data: Uint8Array }
  | { width: number; height: number; rgba: Uint8Array | Uint8ClampedArray };

/**
 * Transforms each frame of the client's video track; sync or async.
 *
 * @param frame The frame.
 * @param ctx The session's context (`signal` aborts when the peer goes away).
 * @returns The frame to send back, or nothing to skip it.
 *
 * @example
 * ```ts
 * import { App, type VideoFrame, type VideoHandler } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // Darken the luma plane (the first width * height bytes of I420).
 * const darken = (frame: VideoFrame) => ({
 *   ...frame,
 *   data: frame.data.map((v, i) => i < frame.width * frame.height ? v >> 1 : v),
 * });
 * const video: VideoHandler = darken;
 * const app = new App().webrtc("/webrtc", { video });
 * assert.ok(app.openapi().paths["/webrtc"]);
 *
 * const frame: VideoFrame = {
 *   width: 2,
 *   height: 2,
 *   data: new Uint8Array([200, 200, 200, 200, 128, 128]),
 *   rgba: () => new Uint8ClampedArray(16),
 *   timestamp: 0,
 *   index: 0,
 * };
 * assert.deepEqual([...darken(frame).data], [100, 100, 100, 100, 128, 128]);
 * ```
 */
export type VideoHandler = (
  frame: VideoFrame,
  ctx: Context,
) => VideoOutput | undefined | void | Promise<VideoOutput | undefined | void>;

/** Options of the video path. */
export interface VideoOptions {
  /** Frames are scaled to this size (nearest neighbour) before the handler sees them. */
  size?: { width: number; height: number };
  /** Frames closer than `1000 / maxFps` ms to the last handled one are skipped. */
  maxFps?: number;
}

/** Counts of one session's video path. */
export interface VideoCounts {
  /** Frames that arrived. */
  received: number;
  /** Frames the handler was called with. */
  handled: number;
  /** Frames sent back. */
  sent: number;
  /** Frames replaced by a newer one while the handler ran. */
  dropped: number;
  /** Frames skipped by `maxFps`. */
  capped: number;
}

/** One session's video path: the incoming track's sink, the handler, the outgoing source. */
export class VideoPipe {
  /** The counts so far. */
  readonly counts: VideoCounts = { received: 0, handled: 0, sent: 0, dropped: 0, capped: 0 };
  /** The outgoing track, to put on the peer. */
  readonly track: NativeTrack;
  #wrtc: Wrtc;
  #handler: VideoHandler;
  #options: VideoOptions;
  #ctx: Context;
  #host: Host;
  #source: NativeVideoSource;
  #sink?: NativeVideoSink;
  #pending?: { frame: I420Frame; timestamp: number; index: number };
  #busy = false;
  #stopped = false;
  #lastHandledAt = -Infinity;

  /**
   * Make the outgoing track; frames flow once {@link VideoPipe.receive} has a track.
   *
   * @param wrtc The native library.
   * @param handler The endpoint's video handler.
   * @param options Size and frame-rate cap.
   * @param ctx The session's context.
   * @param host The App, for error reports.
   */
  constructor(wrtc: Wrtc, handler: VideoHandler, options: VideoOptions, ctx: Context, host: Host) {
    this.#wrtc = wrtc;
    this.#handler = handler;
    this.#options = options;
    this.#ctx = ctx;
    this.#host = host;
    exitBeforeTeardown();
    this.#source = new wrtc.nonstandard.RTCVideoSource();
    this.track = this.#source.createTrack();
  }

  /**
   * Start reading the client's track.
   *
   * @param track The incoming video track.
   */
  receive(track: NativeTrack): void {
    if (this.#sink || this.#stopped) return;
    this.#sink = new this.#wrtc.nonstandard.RTCVideoSink(track);
    this.#sink.onframe = ({ frame }) => this.#arrive(frame);
  }

  /** Stop: no more frames in or out. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#pending = undefined;
    if (this.#sink) {
      this.#sink.onframe = null;
      this.#sink.stop();
    }
    this.track.stop();
  }

  #arrive(frame: I420Frame): void {
    if (this.#stopped) return;
    const index = this.counts.received++;
    const timestamp = performance.now();
    const { maxFps } = this.#options;
    // A little slack, so that a 30 fps camera under a 30 fps cap is not halved by jitter.
    if (maxFps && timestamp - this.#lastHandledAt < 900 / maxFps) {
      this.counts.capped++;
      return;
    }
    if (this.#pending) this.counts.dropped++;
    this.#pending = { frame, timestamp, index };
    if (!this.#busy) this.#pump();
  }

  async #pump(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#pending && !this.#stopped) {
        const { frame, timestamp, index } = this.#pending;
        this.#pending = undefined;
        this.#lastHandledAt = timestamp;
        this.counts.handled++;
        let output;
        try {
          const result = this.#handler(this.#frame(frame, timestamp, index), this.#ctx);
          output = result instanceof Promise ? await result : result;
        } catch (error) {
          this.#host.reportError(error, this.#ctx);
          continue;
        }
        if (output && !this.#stopped) this.#send(output);
      }
    } finally {
      this.#busy = false;
    }
  }

  #frame(raw: I420Frame, timestamp: number, index: number): VideoFrame {
    const size = this.#options.size;
    const frame = size && (size.width !== raw.width || size.height !== raw.height)
      ? scaleI420(raw, size.width, size.height)
      : raw;
    const wrtc = this.#wrtc;
    let rgba: Uint8ClampedArray | undefined;
    return {
      width: frame.width,
      height: frame.height,
      data: frame.data,
      timestamp,
      index,
      rgba() {
        if (!rgba) {
          rgba = new Uint8ClampedArray(frame.width * frame.height * 4);
          wrtc.nonstandard.i420ToRgba(frame, {
            width: frame.width,
            height: frame.height,
            data: rgba as unknown as Uint8Array,
          });
        }
        return rgba;
      },
    };
  }

  #send(output: VideoOutput): void {
    const { width, height } = output;
    let data: Uint8Array;
    if ("data" in output) {
      data = output.data;
    } else {
      data = new Uint8Array(i420Size(width, height));
      this.#wrtc.nonstandard.rgbaToI420(
        { width, height, data: output.rgba as Uint8Array },
        { width, height, data },
      );
    }
    if (data.length !== i420Size(width, height)) {
      this.#host.reportError(
        new RangeError(
          `A video handler returned ${data.length} bytes for ${width}x${height} I420 ` +
            `(${i420Size(width, height)} expected): return { width, height, data } in I420 ` +
            "or { width, height, rgba }",
        ),
        this.#ctx,
      );
      return;
    }
    this.#source.onFrame({ width, height, data });
    this.counts.sent++;
  }
}

/**
 * The size of an I420 frame.
 *
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @returns Its bytes.
 */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * Scale an I420 frame (nearest neighbour).
 *
 * @param frame The frame.
 * @param width The new width.
 * @param height The new height.
 * @returns A new frame.
 */
export function scaleI420(frame: I420Frame, width: number, height: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  const plane = (
    from: number,
    fromWidth: number,
    fromHeight: number,
    to: number,
    toWidth: number,
    toHeight: number,
  ) => {
    for (let y = 0; y < toHeight; y++) {
      const row = from + Math.floor((y * fromHeight) / toHeight) * fromWidth;
      const out = to + y * toWidth;
      for (let x = 0; x < toWidth; x++) {
        data[out + x] = frame.data[row + Math.floor((x * fromWidth) / toWidth)];
      }
    }
  };
  const [fw, fh] = [frame.width, frame.height];
  const [cfw, cfh, cw, ch] = [
    Math.ceil(fw / 2),
    Math.ceil(fh / 2),
    Math.ceil(width / 2),
    Math.ceil(height / 2),
  ];
  plane(0, fw, fh, 0, width, height);
  plane(fw * fh, cfw, cfh, width * height, cw, ch);
  plane(fw * fh + cfw * cfh, cfw, cfh, width * height + cw * ch, cw, ch);
  return { width, height, data };
}
