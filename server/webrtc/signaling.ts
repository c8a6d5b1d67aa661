/**
 * WebRTC endpoints (`app.webrtc(path, { endpoint })`): a signaling WebSocket at `path` (msgpack
 * frames both ways: `ready`, `offer`, `answer`, `icecandidate`, `error`), a server-side peer
 * (npm:werift, loaded on the first signaling session only), and a realtime session of the
 * `endpoint` route run over the DataChannel the client opens, through a
 * {@link DataChannelSocket}. The signaling socket stays open while the peer lives: the session's
 * close code travels on it, and either side closing it ends the session.
 *
 * @module
 */
import { DATA_CHANNEL_MAX_BYTES } from "../../internal/channel_frame.ts";
import { CloseCode, type IceServer } from "../../protocol.ts";
import { within } from "../../internal/within.ts";
import { type Context, createContext, type Host, type Session } from "../context.ts";
import { type Channel, DataChannelSocket, isLatestWins } from "./datachannel.ts";
import type { RealtimeRoute, WebRtcRoute } from "../routes.ts";
import { RealtimeSession } from "../realtime_session.ts";
import { upgrade } from "../upgrade.ts";

/** Options of a WebRTC endpoint. */
export interface WebRtcOptions {
  /**
   * The path of an `app.realtime` route, registered before: its handler, schemas and options
   * serve the DataChannel.
   */
  endpoint: string;
  /** STUN/TURN servers for the server's peer. Default none: host candidates only. */
  iceServers?: IceServer[];
  /**
   * Largest input accepted over the DataChannel, in bytes (`MESSAGE_TOO_LARGE` past it), at most
   * 256 KiB, the DataChannel message limit. Default: the realtime route's, capped at 256 KiB.
   */
  maxMessageBytes?: number;
  /**
   * More configuration for the server's werift `RTCPeerConnection`, merged over rally's (e.g.
   * `icePortRange`, `iceInterfaceAddresses`, `iceAdditionalHostAddresses`, `iceUseIpv6`).
   */
  peerConfig?: Record<string, unknown>;
}

/** How long a signaling session may take to open its DataChannel, in milliseconds. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a closing session waits for the DataChannel to send what it holds, in ms. */
const DRAIN_WAIT_MS = 1_000;
/** How long closing waits for werift's peer to close, in ms. */
const PEER_CLOSE_WAIT_MS = 2_000;

/**
 * Resolve a WebRTC endpoint's options into a route, checking them.
 *
 * @param options The options as given.
 * @returns The route.
 * @throws {TypeError} without an `endpoint` path.
 * @throws {RangeError} for `maxMessageBytes` out of range.
 */
export function webrtcRoute(options: WebRtcOptions): WebRtcRoute {
  if (typeof options?.endpoint !== "string") {
    throw new TypeError("webrtc() needs the path of a realtime route as `endpoint`");
  }
  const { maxMessageBytes } = options;
  if (
    maxMessageBytes !== undefined &&
    !(maxMessageBytes > 0 && maxMessageBytes <= DATA_CHANNEL_MAX_BYTES)
  ) {
    throw new RangeError(
      `maxMessageBytes of a WebRTC endpoint must be between 1 and ${DATA_CHANNEL_MAX_BYTES} (256 KiB), got ${maxMessageBytes}`,
    );
  }
  return {
    endpoint: options.endpoint,
    iceServers: options.iceServers ?? [],
    maxMessageBytes: maxMessageBytes ?? 0,
    peerConfig: options.peerConfig ?? {},
  };
}

/**
 * Upgrade a request to a signaling session whose DataChannel runs a realtime session.
 *
 * @param route The WebRTC endpoint.
 * @param session The realtime route that serves the DataChannel, its `maxMessageBytes` resolved.
 * @param request The upgrade request (checked to have `Upgrade: websocket`).
 * @param host The App serving it.
 * @returns The 101 response.
 */
export function acceptWebRtc(
  route: WebRtcRoute,
  session: RealtimeRoute,
  request: Request,
  host: Host,
): Response {
  const wish = Number(new URL(request.url).searchParams.get("max_buffering"));
  const buffering = wish >= 1
    ? Math.min(session.buffering, Math.min(60, Math.floor(wish)))
    : session.buffering;
  const maxMessageBytes = Math.min(
    route.maxMessageBytes || session.maxMessageBytes,
    DATA_CHANNEL_MAX_BYTES,
  );
  const abort = new AbortController();
  const ctx = createContext(request, abort.signal);
  const { socket, response } = upgrade(request, {
    idleTimeout: session.idleTimeout,
    firstMessageTimeout: host.firstMessageTimeout,
    // fal's WebRTC pages msgpack-decode every frame: no JSON TIMEOUT frame, a plain 1008.
    kind: "websocket",
  });
  new Signaling(socket, route, { ...session, buffering, maxMessageBytes }, { ctx, abort, host });
  return response;
}

type Werift = typeof import("werift");
type Peer = InstanceType<Werift["RTCPeerConnection"]>;

let werift: Promise<Werift> | undefined;

/** werift, imported on first use: serving no WebRTC endpoint never loads it. */
function loadWerift(): Promise<Werift> {
  return werift ??= import("werift");
}

/** One signaling socket, its peer, and (once the DataChannel opens) its realtime session. */
class Signaling implements Session {
  #ws: WebSocket;
  #route: WebRtcRoute;
  #sessionRoute: RealtimeRoute;
  #ctx: Context;
  #abort: AbortController;
  #host: Host;
  #socket: DataChannelSocket;
  #peer?: Peer;
  #channel?: Channel;
  #session?: RealtimeSession;
  #work: Promise<void> = Promise.resolve();
  #answered = false;
  #candidates: unknown[] = [];
  #ended = false;
  #forget?: () => void;
  #timer: ReturnType<typeof setTimeout>;

  constructor(
    ws: WebSocket,
    route: WebRtcRoute,
    sessionRoute: RealtimeRoute,
    run: { ctx: Context; abort: AbortController; host: Host },
  ) {
    this.#ws = ws;
    this.#route = route;
    this.#sessionRoute = sessionRoute;
    this.#ctx = run.ctx;
    this.#abort = run.abort;
    this.#host = run.host;
    this.#socket = new DataChannelSocket((code, reason) => this.#teardown(code, reason));
    // Tracked while negotiating (maxSessions, drain); the realtime session tracks itself after.
    this.#forget = run.host.track(this);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.#signal({ type: "ready" });
      loadWerift().catch(() => {}); // warm up while the client makes its offer
    };
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => this.#lost(event.code || 1006, event.reason);
    this.#timer = setTimeout(() => {
      this.#error(`no DataChannel opened within ${CONNECT_TIMEOUT_MS / 1000} s`);
      this.#endEarly(CloseCode.POLICY, "no DataChannel opened");
    }, CONNECT_TIMEOUT_MS);
  }

  /** Shutdown while still negotiating: an error message, then close 1001. */
  async shutdown(): Promise<void> {
    if (this.#ended || this.#session) return;
    this.#error("server is shutting down");
    await this.#endEarly(CloseCode.GOING_AWAY, "server is shutting down");
  }

  #receive(data: ArrayBuffer | string): void {
    if (this.#ended) return;
    if (typeof data === "string") {
      return this.#error("signaling messages are msgpack binary frames");
    }
    let message: unknown;
    try {
      message = this.#host.codec.decode(data);
    } catch (error) {
      return this.#error((error as Error).message);
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== "string") return this.#error("a signaling message needs a string `type`");
    const fields = message as Record<string, unknown>;
    this.#work = this.#work.then(async () => {
      if (this.#ended) return;
      try {
        if (type === "offer") await this.#offer(fields.sdp);
        else if (type === "icecandidate") await this.#candidate(fields.candidate);
        else this.#error(`unknown signaling message type ${JSON.stringify(type)}`);
      } catch (error) {
        this.#error((error as Error).message ?? String(error));
      }
    });
  }

  async #offer(sdp: unknown): Promise<void> {
    if (typeof sdp !== "string") throw new TypeError("an offer needs an `sdp` string");
    // werift answers any text, even one that is not SDP: look for the DataChannel's section.
    if (!/^m=application \d+ [A-Z/]*SCTP/m.test(sdp)) {
      throw new TypeError("the offer has no DataChannel (no m=application SCTP section)");
    }
    if (this.#peer) {
      throw new Error("an offer was already answered: renegotiation is not supported");
    }
    const { RTCPeerConnection } = await loadWerift();
    if (this.#ended) return;
    const config = {
      iceServers: this.#route.iceServers,
      maxMessageSize: DATA_CHANNEL_MAX_BYTES,
      ...this.#route.peerConfig,
    } as ConstructorParameters<Werift["RTCPeerConnection"]>[0];
    const peer = new RTCPeerConnection(config);
    this.#peer = peer;
    peer.onicecandidate = ({ candidate }) => {
      if (peer !== this.#peer || this.#ended) return;
      const message = {
        type: "icecandidate",
        candidate: candidate
          ? {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? null,
            sdpMLineIndex: candidate.sdpMLineIndex ?? null,
          }
          : null,
      };
      // Candidates found before the answer is out would reach a client with no remote description.
      if (this.#answered) this.#signal(message);
      else this.#candidates.push(message);
    };
    peer.ondatachannel = ({ channel }) => this.#open(channel);
    peer.onconnectionstatechange = () => {
      const state = peer.connectionState;
      if (peer !== this.#peer) return;
      if (state === "failed" || state === "closed" || state === "disconnected") {
        this.#lost(1006, `the peer connection is ${state}`);
      }
    };
    try {
      await peer.setRemoteDescription({ type: "offer", sdp });
      await peer.setLocalDescription(await peer.createAnswer());
    } catch (error) {
      this.#peer = undefined;
      await closePeer(peer);
      throw new Error(`the offer could not be answered: ${(error as Error).message ?? error}`);
    }
    if (this.#ended) return;
    this.#signal({ type: "answer", sdp: peer.localDescription?.sdp });
    this.#answered = true;
    for (const message of this.#candidates.splice(0)) this.#signal(message);
  }

  async #candidate(candidate: unknown): Promise<void> {
    if (candidate === null || candidate === undefined) return; // end of candidates
    const peer = this.#peer;
    if (!peer) throw new Error("an icecandidate came before the offer");
    const init = candidate as { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown };
    if (typeof init.candidate !== "string") {
      throw new TypeError("an icecandidate needs `candidate.candidate` as a string");
    }
    if (init.candidate === "") return; // end of candidates, as browsers say it
    await peer.addIceCandidate({
      candidate: init.candidate,
      sdpMid: typeof init.sdpMid === "string" ? init.sdpMid : undefined,
      sdpMLineIndex: typeof init.sdpMLineIndex === "number" ? init.sdpMLineIndex : undefined,
    });
  }

  /** The client's DataChannel: the first one runs the realtime session; others are closed. */
  #open(channel: Channel): void {
    if (this.#ended || this.#channel) return channel.close();
    this.#channel = channel;
    channel.onclose = () => this.#lost(CloseCode.NORMAL, "the DataChannel closed");
    const start = () => {
      if (this.#ended || this.#session) return;
      clearTimeout(this.#timer);
      const route = isLatestWins(channel)
        ? { ...this.#sessionRoute, buffering: 1 }
        : this.#sessionRoute;
      this.#session = new RealtimeSession(this.#socket, route, this.#ctx, this.#abort, this.#host);
      this.#forget?.();
      this.#forget = undefined;
      this.#socket.attach(channel);
    };
    if (channel.readyState === "open") start();
    else channel.onopen = start;
  }

  #signal(message: unknown): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(this.#host.codec.encode(message));
  }

  #error(text: string): void {
    this.#signal({ type: "error", error: text });
  }

  /** Something went away (the signaling socket, the channel, the peer): end it all. */
  #lost(code: number, reason: string): void {
    if (this.#ended) return;
    this.#endEarly(code, reason);
  }

  /** End without a session's close: tear down, then report the close to the session, if any. */
  async #endEarly(code: number, reason: string): Promise<void> {
    if (this.#ended) return;
    await this.#teardown(code, reason, false);
    this.#socket.closed(code, reason);
    if (!this.#session) this.#abort.abort();
    this.#forget?.();
    this.#forget = undefined;
  }

  /** Close the channel (after it has sent what it holds), the signaling socket, the peer. */
  async #teardown(code: number, reason: string, drain = true): Promise<void> {
    this.#ended = true;
    clearTimeout(this.#timer);
    const channel = this.#channel;
    if (channel && channel.readyState === "open") {
      if (drain) await drained(channel, DRAIN_WAIT_MS);
      channel.close();
    }
    if (this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(code, reason);
    const peer = this.#peer;
    this.#peer = undefined;
    if (peer) await closePeer(peer);
  }
}

/** Wait until the channel has sent what it holds, or `ms` at most. */
async function drained(channel: Channel, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (channel.bufferedAmount > 0 && channel.readyState === "open" && performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Close a werift peer, waiting `PEER_CLOSE_WAIT_MS` at most. */
function closePeer(peer: Peer): Promise<void> {
  return within(peer.close().catch(() => {}), PEER_CLOSE_WAIT_MS);
}
