/**
 * npm:@roamhq/wrtc (libwebrtc) for tests, typed for what they use: its own type declarations
 * re-export the DOM's WebRTC types, which Deno does not have.
 */
import module from "@roamhq/wrtc";
import { exitBeforeTeardown } from "../../server/webrtc/wrtc.ts";

// libwebrtc's media objects crash or hang in Deno's teardown: exit before it.
exitBeforeTeardown();

/** A libwebrtc DataChannel. */
export interface TestChannel {
  readyState: string;
  binaryType: string;
  bufferedAmount: number;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  send(data: string | Uint8Array): void;
  close(): void;
}

/** A libwebrtc ICE candidate. */
export interface TestCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** A libwebrtc media track. */
export interface TestTrack {
  kind: string;
  stop(): void;
}

/** A libwebrtc peer connection. */
export interface TestPeer {
  connectionState: string;
  localDescription: { type: string; sdp: string } | null;
  onicecandidate: ((event: { candidate: TestCandidate | null }) => void) | null;
  ontrack: ((event: { track: TestTrack; streams: unknown[] }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  createDataChannel(label: string, init?: Record<string, unknown>): TestChannel;
  addTrack(track: TestTrack): unknown;
  addTransceiver(kind: string, init?: Record<string, unknown>): unknown;
  createOffer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  addIceCandidate(candidate: Partial<TestCandidate>): Promise<void>;
  close(): void;
}

/** An I420 (or RGBA) frame. */
export interface TestFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The module, typed. */
export const wrtc = module as unknown as {
  RTCPeerConnection: new (config?: Record<string, unknown>) => TestPeer;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): TestTrack; onFrame(frame: TestFrame): void };
    RTCVideoSink: new (track: TestTrack) => {
      onframe: ((event: { frame: TestFrame }) => void) | null;
      stop(): void;
    };
    RTCAudioSource: new () => {
      createTrack(): TestTrack;
      onData(data: { samples: Int16Array; sampleRate: number }): void;
    };
  };
};
