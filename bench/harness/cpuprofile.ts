/**
 * Reading a V8 `.cpuprofile` (as written by `deno run --cpu-prof`): self time per function and
 * per kind of code, to say where a server spends its CPU.
 *
 * @module
 */

/** The parts of the `.cpuprofile` format read here. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or kind of code. */
export interface SelfTime {
  /** `name url:line`, or the kind. */
  name: string;
  /** Share of all sampled time, 0..1 (idle included). */
  share: number;
}

/** Where a profile's time went. */
export interface ProfileSummary {
  /** Sampled time, in ms. */
  totalMs: number;
  /** Busiest functions first. */
  functions: SelfTime[];
  /** Time by kind of code (rally, hono, msgpack, zod, Deno runtime, GC, idle, ...). */
  kinds: SelfTime[];
}

/** The kind of code a profile node belongs to, from its URL or name. */
function kindOf(url: string, name: string): string {
  if (name.startsWith("(")) return name; // (idle), (garbage collector), (program), (root)
  if (url.includes("/work/") && url.includes("/bench/")) return "bench harness";
  for (const pkg of ["hono", "@msgpack/msgpack", "zod", "@standard-schema"]) {
    if (url.includes(`/${pkg}/`)) return pkg;
  }
  if (url.startsWith("ext:") || url.startsWith("node:")) return "Deno runtime (JS)";
  if (url === "") return "native/builtin";
  return "rally";
}

/** Sort a tally into shares, largest first. */
function shares(tally: Map<string, number>, total: number): SelfTime[] {
  return [...tally].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, share: us / total }));
}

/** The part of a profile to read, in ms from its start. */
export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}

/**
 * Summarize a `.cpuprofile`.
 *
 * @param json The profile's text.
 * @param window Only the samples taken in this window (default: all).
 * @returns Self time by function and by kind.
 */
export function summarizeProfile(json: string, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(json) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const kinds = new Map<string, number>();
  let total = 0;
  let at = 0; // µs from the profile's start
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.fromMs * 1000 || at > window.toMs * 1000)) return;
    const frame = byId.get(id)!;
    const file = frame.url.replace(/^.*\/(node_modules|npm|work)\//, "");
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const kind = kindOf(frame.url, frame.functionName);
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
    total += us;
  });
  return {
    totalMs: total / 1000,
    functions: shares(functions, total),
    kinds: shares(kinds, total),
  };
}
