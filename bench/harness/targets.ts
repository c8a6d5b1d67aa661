/**
 * The targets of issue 3, evaluated as ratios within one report run. They are reported with
 * a pass/fail mark, never asserted: absolute figures drift between runs on shared machines.
 *
 * @module
 */
import type { IdleResult, LatencyResult, ThroughputResult } from "./scenarios.ts";

/** Everything one report run measured, by scenario and variant name. */
export interface Measurements {
  /** Sequential round trips of the small message. */
  sequential: Record<string, LatencyResult>;
  /**
   * Sequential round trips of the small message over HTTP as users run it: client and servers
   * unpinned, rally started with `rally serve` and its default log.
   */
  unpinned: Record<string, LatencyResult>;
  /** Throughput by messages in flight (`"16"`, `"64"`). */
  pipelined: Record<string, Record<string, ThroughputResult>>;
  /** Sequential round trips of the 100 KB payload. */
  payload: Record<string, LatencyResult>;
  /** Memory of idle sessions. */
  idle: Record<string, IdleResult>;
  /** Frames through a WebRTC video track and the server's video handler, by variant. */
  video?: Record<string, VideoResult>;
}

/** Frames sent on a video track, through the server's handler, and read back. */
export interface VideoResult {
  /** Frame size. */
  size: string;
  /** Seconds streamed. */
  seconds: number;
  /** Frames read back a second. */
  fps: number;
  /** Median frame latency, send to read back, ms. */
  p50Ms: number;
  /** 99th percentile, ms. */
  p99Ms: number;
  /** Percent of the frames sent never read back. */
  lostPercent: number;
}

/** One evaluated target. */
export interface TargetResult {
  /** What is compared. */
  name: string;
  /** The measured value (a ratio, or KiB). */
  value: number;
  /** `"<="` or `">="`. */
  relation: "<=" | ">=";
  /** The limit. */
  limit: number;
  /** Whether the value is within the limit; `null` when a variant is missing. */
  pass: boolean | null;
}

interface TargetSpec {
  name: string;
  relation: "<=" | ">=";
  limit: number;
  value(m: Measurements): number | undefined;
}

/** `a / b`, or undefined when either is missing. */
function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

const TARGETS: readonly TargetSpec[] = [
  {
    name: "rally-webrtc p50 / ws-floor p50 (sequential, DataChannel)",
    relation: "<=",
    limit: 3,
    value: (m) => ratio(m.sequential["rally-webrtc"]?.p50, m.sequential["ws-floor"]?.p50),
  },
  {
    name: "rally-webrtc p50 / ws-floor p50 (100 KB, DataChannel)",
    relation: "<=",
    limit: 10,
    value: (m) => ratio(m.payload["rally-webrtc"]?.p50, m.payload["ws-floor"]?.p50),
  },
  {
    name: "rally-webrtc p50 / webrtc-floor p50 (sequential: what rally adds to libwebrtc)",
    relation: "<=",
    limit: 1.10,
    value: (m) => ratio(m.sequential["rally-webrtc"]?.p50, m.sequential["webrtc-floor"]?.p50),
  },
  {
    name: "rally-webrtc p50 / webrtc-floor p50 (100 KB: what rally adds to libwebrtc)",
    relation: "<=",
    limit: 1.25,
    value: (m) => ratio(m.payload["rally-webrtc"]?.p50, m.payload["webrtc-floor"]?.p50),
  },
  {
    name: "rally-realtime p50 / ws-floor p50 (sequential)",
    relation: "<=",
    limit: 1.10,
    value: (m) => ratio(m.sequential["rally-realtime"]?.p50, m.sequential["ws-floor"]?.p50),
  },
  {
    name: "rally-realtime / ws-floor server CPU per message (64 in flight)",
    relation: "<=",
    limit: 1.15,
    value: (m) =>
      ratio(
        m.pipelined["64"]?.["rally-realtime"]?.serverCpuUs,
        m.pipelined["64"]?.["ws-floor"]?.serverCpuUs,
      ),
  },
  {
    name: "rally-http-json p50 / http-floor p50 (sequential)",
    relation: "<=",
    limit: 1.10,
    value: (m) => ratio(m.sequential["rally-http-json"]?.p50, m.sequential["http-floor"]?.p50),
  },
  {
    name: "rally-http-served p50 / http-floor p50 (sequential; rally serve, default log)",
    relation: "<=",
    limit: 1.10,
    value: (m) => ratio(m.sequential["rally-http-served"]?.p50, m.sequential["http-floor"]?.p50),
  },
  {
    name: "unpinned: rally-http-served / http-floor, median of round p50s (as users run it)",
    relation: "<=",
    limit: 1.10,
    value: (m) =>
      ratio(
        m.unpinned["rally-http-served"]?.medianOfRoundMedians,
        m.unpinned["http-floor"]?.medianOfRoundMedians,
      ),
  },
  {
    name: "rally-realtime / rally-http-json msgs/s (64 in flight)",
    relation: ">=",
    limit: 3.5,
    value: (m) =>
      ratio(
        m.pipelined["64"]?.["rally-realtime"]?.msgsPerSecond,
        m.pipelined["64"]?.["rally-http-json"]?.msgsPerSecond,
      ),
  },
  {
    name: "100 KB: rally-realtime p50 / raw WS binary frame p50",
    relation: "<=",
    limit: 1.25,
    value: (m) => ratio(m.payload["rally-realtime"]?.p50, m.payload["ws-floor"]?.p50),
  },
  {
    name: "idle rally-realtime session, server RSS (KiB)",
    relation: "<=",
    limit: 32,
    value: (m) => ratio(m.idle["rally-realtime"]?.rssPerSession, 1024),
  },
];

/**
 * Evaluate every target.
 *
 * @param measurements One run's results.
 * @returns The targets with their values and pass marks.
 */
export function evaluateTargets(measurements: Measurements): TargetResult[] {
  return TARGETS.map(({ name, relation, limit, value }) => {
    const measured = value(measurements);
    const pass = measured === undefined || !Number.isFinite(measured)
      ? null
      : relation === "<="
      ? measured <= limit
      : measured >= limit;
    return { name, relation, limit, value: measured ?? NaN, pass };
  });
}
