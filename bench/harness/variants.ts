/**
 * The variants under comparison: which server process each one runs and how its client
 * sends the small message and (for some) the 100 KB payload.
 *
 * @module
 */
import { type Driver, requestDriver, streamDriver } from "./drivers.ts";
import { httpJsonRequest, tcpDuplex, webrtcDuplex, webSocketDuplex } from "./floor_clients.ts";
import { IMAGE, IMAGE_INPUT, SMALL_INPUT } from "./messages.ts";
import { type ServerProcess, type StartOptions, startServer } from "./process.ts";
import { rallyRequest, rallyWsDuplex, realtimeDuplex, WEBRTC } from "./rally_clients.ts";
import { startPlain, startServed } from "./served.ts";

/** One variant: a server script and clients for it. */
export interface Variant {
  /** Name in reports. */
  name: string;
  /** Its group in the chart: a bare floor, another framework, or rally. */
  group: "floor" | "framework" | "rally";
  /** The floor it is compared with in the chart (same transport, no framework). */
  floor?: string;
  /** Server script under `bench/servers/`; every variant gets its own process. */
  script: string;
  /**
   * Start the server another way than `bench/servers/<script>` with its control channel
   * (`rally serve`, as users start it).
   */
  start?(options: StartOptions): Promise<ServerProcess>;
  /** Connect a client sending the small `{ prompt }` message. */
  small(server: ServerProcess): Promise<Driver>;
  /** Connect a client sending the 100 KB payload, for variants in that scenario. */
  image?(server: ServerProcess): Promise<Driver>;
  /** Whether `small()` opens a persistent session (counted in the idle-session scenario). */
  session: boolean;
  /**
   * The phase it is measured in, after the interleaved ones, with the variants of the same
   * phase only: its clients keep threads, timers and sockets busy in the bench process, which
   * would slow every other variant down.
   */
  isolated?: string;
}

/** The App the "as users run it" variants serve with `rally serve`. */
const SERVED_APP = "bench/servers/served_app.ts";

/**
 * rally's HTTP endpoint as users run it: `rally serve` with its default log (one JSON line per
 * request on stdout), asked by the same bare fetch client as `http-floor`.
 */
const SERVED: Variant = {
  name: "rally-http-served",
  group: "rally",
  floor: "http-floor",
  script: "served_app.ts",
  start: (options) => startServed(SERVED_APP, options),
  small: (server) => Promise.resolve(requestDriver(httpJsonRequest(`${server.url}/`))),
  session: false,
};

/** The variant every comparison is relative to. */
export const BASELINE = "rally-realtime";

/** All variants, floors first. */
export const VARIANTS: readonly Variant[] = [
  {
    name: "tcp-floor",
    group: "floor",
    script: "tcp_floor.ts",
    // The JSON bytes of `{ prompt }`, echoed as they are: no codec at all.
    small: async (server) =>
      streamDriver(
        await tcpDuplex(server.port, new TextEncoder().encode(JSON.stringify(SMALL_INPUT))),
      ),
    session: false,
  },
  {
    name: "ws-floor",
    group: "floor",
    script: "ws_floor.ts",
    small: async (server) => streamDriver(await webSocketDuplex(server.url, "/", "msgpack")),
    image: async (server) =>
      streamDriver(await webSocketDuplex(server.url, "/echo", "echo", IMAGE)),
    session: true,
  },
  {
    // libwebrtc's DataChannel with nothing of rally's: what rally-webrtc is compared with.
    name: "webrtc-floor",
    group: "floor",
    script: "webrtc_floor.ts",
    isolated: "webrtc",
    small: async (server) => streamDriver(await webrtcDuplex(server.url, "msgpack")),
    image: async (server) => streamDriver(await webrtcDuplex(server.url, "echo", IMAGE)),
    session: false,
  },
  {
    name: "http-floor",
    group: "floor",
    script: "http_floor.ts",
    small: (server) => Promise.resolve(requestDriver(httpJsonRequest(server.url))),
    session: false,
  },
  {
    name: "hono-ws",
    group: "framework",
    floor: "ws-floor",
    script: "hono_ws.ts",
    small: async (server) => streamDriver(await webSocketDuplex(server.url, "/", "msgpack")),
    session: true,
  },
  {
    name: "rally-realtime",
    group: "rally",
    floor: "ws-floor",
    script: "rally.ts",
    small: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/realtime", SMALL_INPUT)),
    image: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/realtime-image", IMAGE_INPUT)),
    session: true,
  },
  {
    // Realtime over a WebRTC DataChannel (ordered), libwebrtc's peer on both sides. Not in the
    // idle-session scenario: each session is a whole peer (UDP socket, DTLS, SCTP), 2000 of
    // them would take minutes to negotiate.
    name: "rally-webrtc",
    group: "rally",
    floor: "webrtc-floor",
    script: "rally.ts",
    isolated: "webrtc",
    small: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/webrtc", SMALL_INPUT, WEBRTC)),
    image: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/webrtc-image", IMAGE_INPUT, WEBRTC)),
    session: false,
  },
  {
    name: "rally-ws",
    group: "rally",
    floor: "ws-floor",
    script: "rally.ts",
    small: async (server) =>
      streamDriver(await rallyWsDuplex(server.url, "/ws", { input: SMALL_INPUT })),
    image: async (server) =>
      streamDriver(await rallyWsDuplex(server.url, "/echo", { bytes: IMAGE })),
    session: true,
  },
  {
    name: "rally-http-json",
    group: "rally",
    floor: "http-floor",
    script: "rally.ts",
    small: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/", SMALL_INPUT, "json"))),
    session: false,
  },
  {
    name: "rally-http-msgpack",
    group: "rally",
    floor: "http-floor",
    script: "rally.ts",
    small: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/", SMALL_INPUT, "msgpack"))),
    image: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/image", IMAGE_INPUT, "msgpack"))),
    session: false,
  },
  SERVED,
];

/**
 * The "as users run it" comparison, measured with client and servers unpinned (the OS places
 * them, as on a developer's machine), every server a plain `deno run` process: the HTTP floor,
 * rally served with its default log, and the same with `RALLY_LOG=off`.
 */
export const UNPINNED_VARIANTS: readonly Variant[] = [
  {
    // The same handler as `http-floor`'s, started as a bare script is: `deno run -A`.
    name: "http-floor",
    group: "floor",
    script: "bare_http.ts",
    start: (options) => startPlain("bare Deno.serve", ["bench/servers/bare_http.ts"], options),
    small: (server) => Promise.resolve(requestDriver(httpJsonRequest(server.url))),
    session: false,
  },
  SERVED,
  {
    ...SERVED,
    name: "rally-http-served-nolog",
    group: "rally",
    floor: "http-floor",
    start: (options) => startServed(SERVED_APP, { ...options, env: { RALLY_LOG: "off" } }),
  },
];

/**
 * Start a variant's server process.
 *
 * @param variant The variant.
 * @param options CPU pinning, Deno flags.
 * @returns The running process.
 */
export function startVariant(variant: Variant, options: StartOptions = {}): Promise<ServerProcess> {
  return variant.start ? variant.start(options) : startServer(variant.script, options);
}
