/**
 * The variants under comparison: which server process each one runs and how its client
 * sends the small message and (for some) the 100 KB payload.
 *
 * @module
 */
import { type Driver, requestDriver, streamDriver } from "./drivers.ts";
import { httpJsonRequest, tcpDuplex, webSocketDuplex } from "./floor_clients.ts";
import { IMAGE, IMAGE_INPUT, SMALL_INPUT } from "./messages.ts";
import type { ServerProcess } from "./process.ts";
import { rallyRequest, rallyWsDuplex, realtimeDuplex, WEBRTC } from "./rally_clients.ts";

/** One variant: a server script and clients for it. */
export interface Variant {
  /** Name in reports. */
  name: string;
  /** Server script under `bench/servers/`; every variant gets its own process. */
  script: string;
  /** Connect a client sending the small `{ prompt }` message. */
  small(server: ServerProcess): Promise<Driver>;
  /** Connect a client sending the 100 KB payload, for variants in that scenario. */
  image?(server: ServerProcess): Promise<Driver>;
  /** Whether `small()` opens a persistent session (counted in the idle-session scenario). */
  session: boolean;
  /**
   * Measured in a phase of its own, after the interleaved ones: its clients keep timers and
   * sockets busy in the bench process, which would slow every other variant down.
   */
  isolated?: boolean;
}

/** The variant every comparison is relative to. */
export const BASELINE = "rally-realtime";

/** All variants, floors first. */
export const VARIANTS: readonly Variant[] = [
  {
    name: "tcp-floor",
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
    script: "ws_floor.ts",
    small: async (server) => streamDriver(await webSocketDuplex(server.url, "/", "msgpack")),
    image: async (server) =>
      streamDriver(await webSocketDuplex(server.url, "/echo", "echo", IMAGE)),
    session: true,
  },
  {
    name: "http-floor",
    script: "http_floor.ts",
    small: (server) => Promise.resolve(requestDriver(httpJsonRequest(server.url))),
    session: false,
  },
  {
    name: "hono-ws",
    script: "hono_ws.ts",
    small: async (server) => streamDriver(await webSocketDuplex(server.url, "/", "msgpack")),
    session: true,
  },
  {
    name: "rally-realtime",
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
    script: "rally.ts",
    isolated: true,
    small: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/webrtc", SMALL_INPUT, WEBRTC)),
    image: async (server) =>
      streamDriver(await realtimeDuplex(server.url, "/webrtc-image", IMAGE_INPUT, WEBRTC)),
    session: false,
  },
  {
    name: "rally-ws",
    script: "rally.ts",
    small: async (server) =>
      streamDriver(await rallyWsDuplex(server.url, "/ws", { input: SMALL_INPUT })),
    image: async (server) =>
      streamDriver(await rallyWsDuplex(server.url, "/echo", { bytes: IMAGE })),
    session: true,
  },
  {
    name: "rally-http-json",
    script: "rally.ts",
    small: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/", SMALL_INPUT, "json"))),
    session: false,
  },
  {
    name: "rally-http-msgpack",
    script: "rally.ts",
    small: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/", SMALL_INPUT, "msgpack"))),
    image: (server) =>
      Promise.resolve(requestDriver(rallyRequest(server.url, "/image", IMAGE_INPUT, "msgpack"))),
    session: false,
  },
];
