/**
 * The server's WebRTC stack, npm:@roamhq/wrtc (Google's libwebrtc behind the standard
 * `RTCPeerConnection` API, prebuilt inside the npm package), imported on first use: an App that
 * serves no WebRTC endpoint never loads the native library. Only the types rally uses are named
 * here.
 *
 * @module
 */

/** A video frame as libwebrtc's sink gives it and its source takes it: I420 bytes. */
export interface I420Frame {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3 / 2` bytes: Y, then U, then V at half resolution. */
  data: Uint8Array;
}

/** A media track of the native library. */
export interface NativeTrack {
  /** `"video"` or `"audio"`. */
  readonly kind: string;
  /** Stop the track. */
  stop(): void;
}

/** libwebrtc's video sink: calls `onframe` with each decoded frame of a track. */
export interface NativeVideoSink {
  /** Called with `{ frame }`. */
  onframe: ((event: { frame: I420Frame }) => void) | null;
  /** Stop receiving. */
  stop(): void;
}

/** libwebrtc's video source: a track fed frame by frame. */
export interface NativeVideoSource {
  /** Make its track. */
  createTrack(): NativeTrack;
  /** Send one frame on the track. */
  onFrame(frame: I420Frame): void;
}

/** What rally uses of the module. */
export interface Wrtc {
  /** The peer connection class (typed loosely: rally reads the fields it needs). */
  RTCPeerConnection: new (config: Record<string, unknown>) => NativePeer;
  /** The nonstandard media helpers. */
  nonstandard: {
    RTCVideoSink: new (track: NativeTrack) => NativeVideoSink;
    RTCVideoSource: new () => NativeVideoSource;
    i420ToRgba(i420: I420Frame, rgba: I420Frame): void;
    rgbaToI420(rgba: I420Frame, i420: I420Frame): void;
  };
}

/** A transceiver of a native peer. */
export interface NativeTransceiver {
  /** Its media section's id. */
  readonly mid: string | null;
  /** What it receives. */
  readonly receiver: { readonly track: NativeTrack };
  /** What it sends. */
  readonly sender: {
    replaceTrack(track: NativeTrack | null): Promise<void>;
    getParameters(): Record<string, unknown>;
    setParameters(parameters: Record<string, unknown>): Promise<void>;
  };
  /** `"sendrecv"`, `"recvonly"`, ... */
  direction: string;
}

/** What rally uses of a native `RTCPeerConnection`. */
export interface NativePeer {
  readonly connectionState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  onicecandidate: ((event: { candidate: NativeCandidate | null }) => void) | null;
  ondatachannel: ((event: { channel: unknown }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  setLocalDescription(description?: { type: string; sdp: string }): Promise<void>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  addIceCandidate(candidate: Record<string, unknown>): Promise<void>;
  addTrack(track: NativeTrack): unknown;
  getTransceivers(): NativeTransceiver[];
  close(): void;
}

/** A local ICE candidate. */
export interface NativeCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

let loading: Promise<Wrtc> | undefined;

/**
 * The native library, imported once, on the first call.
 *
 * @returns The module.
 */
export function loadWrtc(): Promise<Wrtc> {
  return loading ??= import("@roamhq/wrtc").then(
    (module) => ((module as { default?: unknown }).default ?? module) as unknown as Wrtc,
    (error) => {
      loading = undefined;
      throw new Error(
        `Cannot load npm:@roamhq/wrtc (libwebrtc) for the WebRTC endpoint: ${
          error?.message ?? error
        }; ` +
          "run with --allow-ffi (or -A) and make sure the npm package's platform binary is installed",
        { cause: error },
      );
    },
  );
}

let guarded = false;

/**
 * End the process with `Deno.exit()` once its event loop is empty, instead of letting Deno tear
 * the native library down: libwebrtc's media objects (video sources, tracks, receivers) crash
 * (SIGSEGV, SIGABRT) or hang in their finalizers at that teardown (npm:@roamhq/wrtc 0.10.0 under
 * Deno 2.9.6). Installed when the first media object is made; the exit code is kept.
 */
export function exitBeforeTeardown(): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("unload", () => Deno.exit(Deno.exitCode));
}
