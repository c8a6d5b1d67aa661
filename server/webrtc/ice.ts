/**
 * Which ICE candidates a WebRTC endpoint's peer checks and offers (`iceCandidates`): every
 * candidate does a STUN exchange with the address it names, so a public server can be told to
 * try only loopback, only private ranges, or only a list of addresses and ranges. Applied to
 * the candidates the client trickles, to `a=candidate` lines in its offer, and to the server's
 * own candidates before they go out.
 *
 * @module
 */

/**
 * A policy: `"any"` (default), `"loopback"`, `"private"`, or addresses and CIDR ranges.
 *
 * @example
 * ```ts
 * import { App, type IcePolicy } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const policies: IcePolicy[] = ["any", "loopback", "private", ["192.168.1.0/24", "10.0.0.7"]];
 * const app = new App().realtime("/realtime", {}, (input) => input);
 * policies.forEach((iceCandidates, i) =>
 *   app.webrtc(`/webrtc/${i}`, { endpoint: "/realtime", iceCandidates })
 * );
 * assert.equal(Object.keys(app.openapi().paths).filter((p) => p.startsWith("/webrtc/")).length, 4);
 * ```
 */
export type IcePolicy = "any" | "loopback" | "private" | readonly string[];

/** A compiled policy: whether a candidate's address may be used. */
export type IceFilter = (address: string) => boolean;

const LOOPBACK = ["127.0.0.0/8", "::1/128"];
const PRIVATE = [
  ...LOOPBACK,
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "fc00::/7",
  "fe80::/10",
];

/**
 * Compile a policy.
 *
 * @param policy The policy.
 * @returns A filter, or `undefined` for `"any"`.
 * @throws {TypeError} for an entry that is neither an IP address nor a CIDR range.
 */
export function iceFilter(policy: IcePolicy = "any"): IceFilter | undefined {
  if (policy === "any") return undefined;
  const ranges = (policy === "loopback" ? LOOPBACK : policy === "private" ? PRIVATE : policy)
    .map(parseRange);
  return (address) => {
    const ip = parseIp(address);
    return ip !== undefined && ranges.some((range) => inRange(ip, range));
  };
}

/**
 * The address a candidate line names (its fifth field).
 *
 * @param candidate `candidate:...` or `a=candidate:...`.
 * @returns The address (an IP or an mDNS host name), or `undefined` when the line is malformed.
 */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, "").split(" ")[4];
}

/**
 * Remove the `a=candidate` lines whose address the filter refuses.
 *
 * @param sdp A session description.
 * @param filter The policy.
 * @returns The description without them.
 */
export function filterSdp(sdp: string, filter: IceFilter | undefined): string {
  if (!filter) return sdp;
  return sdp.split("\r\n").filter((line) =>
    !line.startsWith("a=candidate:") || filter(candidateAddress(line) ?? "")
  ).join("\r\n");
}

interface Ip {
  v6: boolean;
  bytes: number[];
}

interface Range {
  ip: Ip;
  bits: number;
}

function parseRange(entry: string): Range {
  const [address, bitsText] = entry.split("/");
  const ip = parseIp(address);
  const max = ip?.v6 ? 128 : 32;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!ip || !Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new TypeError(
      `iceCandidates: ${JSON.stringify(entry)} is not an IP address or a CIDR range ` +
        `(write e.g. "10.0.0.0/8" or "192.0.2.7")`,
    );
  }
  return { ip, bits };
}

function parseIp(text: string): Ip | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const bytes = text.split(".").map(Number);
    return bytes.every((byte) => byte <= 255) ? { v6: false, bytes } : undefined;
  }
  if (!text.includes(":") || !/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const [head, tail = ""] = text.split("::");
  const groups = (part: string) => part ? part.split(":") : [];
  const left = groups(head);
  const right = groups(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (!text.includes("::") && missing !== 0)) return undefined;
  const words = [...left, ...Array(missing).fill("0"), ...right].map((group) =>
    parseInt(group, 16)
  );
  if (words.some((word) => !(word >= 0 && word <= 0xffff))) return undefined;
  return { v6: true, bytes: words.flatMap((word) => [word >> 8, word & 0xff]) };
}

function inRange(ip: Ip, range: Range): boolean {
  if (ip.v6 !== range.ip.v6) return false;
  for (let bit = 0; bit < range.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((ip.bytes[bit >> 3] & mask) !== (range.ip.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}
