/**
 * A Deno video client of a rally WebRTC endpoint, for the tests and the bench: rally's client
 * (`connect()` with `transport: "webrtc"`) sends the frames of a libwebrtc `RTCVideoSource`
 * (npm:@roamhq/wrtc) as its `video`, and reads the server's track with an `RTCVideoSink`. Frames
 * carry their number in their pixels ({@link stampI420}), so each returned frame says which sent
 * frame it came from and when that one was sent.
 *
 * @module
 */
import { connect, type ConnectOptions } from "../../client/mod.ts";
import { readStampI420, STAMP_MODULO, stampI420 } from "../../examples/camera/stamp.js";
import { Inbox } from "../../internal/inbox.ts";
import { type TestFrame, type TestTrack, wrtc } from "../../tests/webrtc/_wrtc.ts";

/** A frame read back, with the number it carried and its latency. */
export interface ReturnedFrame {
  /** The frame. */
  frame: TestFrame;
  /** The number stamped into it, or `undefined` when no sent frame had it. */
  n?: number;
  /** Milliseconds from sending frame `n` to reading it back. */
  latencyMs?: number;
}

/** An open video session. */
export class VideoPeer implements AsyncDisposable {
  /** Frames read back, in order. */
  readonly frames: Inbox<ReturnedFrame> = new Inbox();
  /** The latest `dropped` count the server reported. */
  dropped = 0;
  /** Frames sent so far. */
  sent = 0;
  readonly width: number;
  readonly height: number;
  #source = new wrtc.nonstandard.RTCVideoSource();
  #track: TestTrack = this.#source.createTrack();
  #sinks: { stop(): void }[] = [];
  #sentAt = new Map<number, number>();
  #handle?: ReturnType<typeof connect>;
  #data: Uint8Array;
  #closed = Promise.withResolvers<void>();

  private constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.#data = new Uint8Array(width * height * 3 / 2).fill(128);
  }

  /**
   * Connect to a WebRTC endpoint and wait until the server's track is there.
   *
   * @param url The server's base URL.
   * @param path The endpoint's path.
   * @param size The frames' size.
   * @param options More `connect()` options.
   * @returns The session.
   */
  static async open(
    url: string,
    path: string,
    size: { width: number; height: number } = { width: 320, height: 240 },
    options: Partial<ConnectOptions<unknown>> = {},
  ): Promise<VideoPeer> {
    const peer = new VideoPeer(size.width, size.height);
    const track = Promise.withResolvers<void>();
    const opened = Promise.withResolvers<void>();
    peer.#handle = connect(url, {
      path,
      transport: "webrtc",
      video: peer.#track,
      onTrack: (event) => {
        const sink = new wrtc.nonstandard.RTCVideoSink(event.track as TestTrack);
        sink.onframe = ({ frame }) => peer.#read(frame);
        peer.#sinks.push(sink);
        track.resolve();
      },
      onDropped: (count) => peer.dropped = count,
      onOpen: () => opened.resolve(),
      onClose: () => peer.#closed.resolve(),
      onResult: () => {},
      onError: (error) => opened.reject(error),
      ...options,
    } as ConnectOptions<unknown>);
    await Promise.all([opened.promise, track.promise]);
    return peer;
  }

  /** The `connect()` handle, to send DataChannel inputs next to the video. */
  get handle(): ReturnType<typeof connect> {
    return this.#handle!;
  }

  /**
   * Send the next frame, numbered.
   *
   * @returns Its number.
   */
  send(): number {
    const n = this.sent++ % STAMP_MODULO;
    stampI420(this.#data, this.width, n);
    this.#sentAt.set(n, performance.now());
    this.#source.onFrame({ width: this.width, height: this.height, data: this.#data });
    return n;
  }

  /**
   * Send frames at `fps` for `ms`, reading what comes back meanwhile.
   *
   * @param fps Frames a second.
   * @param ms How long.
   * @returns When done.
   */
  async stream(fps: number, ms: number): Promise<void> {
    const start = performance.now();
    let next = start;
    while (performance.now() - start < ms) {
      this.send();
      next += 1000 / fps;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
  }

  #read(frame: TestFrame): void {
    const n = frame.width >= 256 ? readStampI420(frame.data, frame.width) : undefined;
    const sentAt = n === undefined ? undefined : this.#sentAt.get(n);
    if (n !== undefined) this.#sentAt.delete(n);
    this.frames.push({
      frame,
      n: sentAt === undefined ? undefined : n,
      latencyMs: sentAt === undefined ? undefined : performance.now() - sentAt,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const sink of this.#sinks) sink.stop();
    this.#track.stop();
    this.#handle?.close();
    this.frames.end();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed.promise,
      new Promise((resolve) => timer = setTimeout(resolve, 5_000)),
    ]);
    clearTimeout(timer);
  }
}
