/**
 * WebRTC endpoints (`app.webrtc(path, { endpoint, video })`): a signaling WebSocket at `path`
 * (`ready`, `offer`, `answer`, `icecandidate`, `error`, in msgpack or JSON, see {@link SignalingWire}),
 * a server-side libwebrtc peer (npm:@roamhq/wrtc, loaded on the first signaling session only), a
 * realtime session of the `endpoint` route run over the DataChannel the client opens (through a
 * {@link DataChannelSocket}), and the `video` handler between the client's video track and the
 * peer's outgoing one. The signaling socket stays open while the peer lives: the session's close
 * code travels on it, and either side closing it ends the session.
 *
 * @module
 */
import { DATA_CHANNEL_MAX_BYTES } from "../../internal/channel_frame.ts";
import { CloseCode, errorFrame } from "../../protocol.ts";
import { type Context, createContext, type Host, type Session } from "../context.ts";
import type { RealtimeRoute, WebRtcRoute } from "../routes.ts";
import { requestedBuffering } from "../realtime.ts";
import { RealtimeSession } from "../realtime_session.ts";
import { upgrade } from "../upgrade.ts";
import { type Channel, DataChannelSocket, isLatestWins } from "./datachannel.ts";
import { withVideoBitrate } from "./bitrate.ts";
import { candidateAddress, filterSdp } from "./ice.ts";
import { VideoPipe } from "./video.ts";
import { type SignalingFormat, type SignalingMessage, SignalingWire } from "./wire.ts";
import { loadWrtc, type NativePeer, type Wrtc } from "./wrtc.ts";

export { type WebRtcOptions, webrtcRoute } from "./options.ts";

/** How long a signaling session may take to connect its peer, in milliseconds. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a closing session waits for the DataChannel to send what it holds, in ms. */
const DRAIN_WAIT_MS = 1_000;
/** Remote candidates one session may add (a few per network interface are normal). */
const MAX_CANDIDATES = 64;
/** How often a `dropped` message may report the video path's count, in milliseconds. */
const DROPPED_INTERVAL_MS = 500;

/**
 * Upgrade a request to a signaling session.
 *
 * @param route The WebRTC endpoint.
 * @param session The realtime route that serves the DataChannel (its `maxMessageBytes`
 * resolved), if the endpoint has one.
 * @param request The upgrade request (checked to have `Upgrade: websocket`).
 * @param host The App serving it.
 * @returns The 101 response.
 */
export function acceptWebRtc(
  route: WebRtcRoute,
  session: RealtimeRoute | undefined,
  request: Request,
  host: Host,
): Response {
  const query = new URL(request.url).searchParams;
  let channelRoute: RealtimeRoute | undefined;
  if (session) {
    const buffering = requestedBuffering(request, session.buffering);
    const maxMessageBytes = Math.min(
      route.maxMessageBytes || session.maxMessageBytes,
      DATA_CHANNEL_MAX_BYTES,
    );
    channelRoute = { ...session, buffering, maxMessageBytes };
  }
  const format: SignalingFormat = query.get("signaling") === "json"
    ? "json"
    : query.get("signaling") === "msgpack"
    ? "msgpack"
    : route.signaling;
  const abort = new AbortController();
  const ctx = createContext(request, abort.signal);
  const { socket, response } = upgrade(request, {
    idleTimeout: session?.idleTimeout ?? 30,
    firstMessageTimeout: host.firstMessageTimeout,
    // fal's WebRTC pages decode every frame: no TIMEOUT frame, a plain 1008.
    kind: "websocket",
  });
  new Signaling(socket, route, channelRoute, { ctx, abort, host, format });
  return response;
}

/** One signaling socket, its peer, its video path and (once open) its DataChannel session. */
class Signaling implements Session {
  #ws: WebSocket;
  #wire: SignalingWire;
  #route: WebRtcRoute;
  #channelRoute?: RealtimeRoute;
  #ctx: Context;
  #abort: AbortController;
  #host: Host;
  #socket: DataChannelSocket;
  #peer?: NativePeer;
  #channel?: Channel;
  #session?: RealtimeSession;
  #video?: VideoPipe;
  #work: Promise<void> = Promise.resolve();
  #answered = false;
  #outgoing: Record<string, unknown>[] = [];
  #candidates = 0;
  #early: unknown[] = [];
  #ended = false;
  #forget?: () => void;
  #timer: ReturnType<typeof setTimeout>;
  #droppedTimer?: ReturnType<typeof setInterval>;

  constructor(
    ws: WebSocket,
    route: WebRtcRoute,
    channelRoute: RealtimeRoute | undefined,
    run: { ctx: Context; abort: AbortController; host: Host; format: SignalingFormat },
  ) {
    this.#ws = ws;
    this.#route = route;
    this.#channelRoute = channelRoute;
    this.#ctx = run.ctx;
    this.#abort = run.abort;
    this.#host = run.host;
    this.#wire = new SignalingWire(ws, run.host.codec, run.format, (code, reason) => {
      this.#endEarly(code, reason);
    });
    this.#socket = new DataChannelSocket((code, reason) => this.#teardown(code, reason));
    // Tracked while negotiating (maxSessions, drain), and for the whole of a video-only session;
    // a DataChannel's realtime session tracks itself.
    this.#forget = run.host.track(this);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.#wire.send({ type: "ready" });
      loadWrtc().catch(() => {}); // warm up while the client makes its offer
    };
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => this.#lost(event.code || 1006, event.reason);
    this.#timer = setTimeout(() => {
      this.#wire.error(`the peer did not connect within ${CONNECT_TIMEOUT_MS / 1000} s`);
      this.#endEarly(CloseCode.POLICY, "the peer did not connect");
    }, CONNECT_TIMEOUT_MS);
  }

  /** Shutdown, unless a DataChannel session drains itself: an error message, then close 1001. */
  async shutdown(): Promise<void> {
    if (this.#ended || this.#session) return;
    this.#wire.error("server is shutting down");
    await this.#endEarly(CloseCode.GOING_AWAY, "server is shutting down");
  }

  #receive(data: ArrayBuffer | string): void {
    if (this.#ended) return;
    const message = this.#wire.read(data);
    if (!message) return;
    const { type } = message;
    if (type !== "offer" && type !== "icecandidate") {
      return void this.#wire.refuse(
        `unknown signaling message type ${JSON.stringify(type).slice(0, 40)}: ` +
          'send "offer" or "icecandidate"',
      );
    }
    if (type === "icecandidate" && ++this.#candidates > MAX_CANDIDATES) {
      return void this.#wire.refuse(`more than ${MAX_CANDIDATES} ICE candidates`);
    }
    this.#work = this.#work.then(async () => {
      if (this.#ended) return;
      try {
        if (type === "offer") await this.#offer(message);
        else await this.#candidate(message.candidate);
      } catch (error) {
        this.#wire.refuse((error as Error).message ?? String(error));
      }
    });
  }

  async #offer(message: SignalingMessage): Promise<void> {
    const sdp = message.sdp;
    if (typeof sdp !== "string") throw new TypeError("an offer needs an `sdp` string");
    if (this.#peer) {
      throw new Error("an offer was already answered: renegotiation is not supported");
    }
    const hasChannel = /^m=application \d+ [A-Z/]*SCTP/m.test(sdp);
    const hasVideo = /^m=video /m.test(sdp);
    if (!hasChannel && !hasVideo) {
      throw new TypeError("the offer has neither a DataChannel nor a video track");
    }
    if (hasVideo && !this.#route.video) {
      throw new TypeError("the offer has a video track, but this endpoint has no `video` handler");
    }
    const wrtc = await loadWrtc();
    if (this.#ended) return;
    const peer = new wrtc.RTCPeerConnection({
      iceServers: this.#route.iceServers,
      ...this.#route.peerConfig,
    });
    this.#peer = peer;
    this.#watch(peer);
    try {
      const offer = withVideoBitrate(
        filterSdp(sdp, this.#route.iceFilter),
        this.#route.videoBitrate,
      );
      await peer.setRemoteDescription({ type: "offer", sdp: offer });
      if (hasVideo) this.#startVideo(wrtc, peer);
      for (const candidate of this.#early.splice(0)) await this.#candidate(candidate);
      await peer.setLocalDescription(await peer.createAnswer());
      if (hasVideo) await this.#keepFrameRate(peer);
    } catch (error) {
      this.#peer = undefined;
      closePeer(peer);
      throw new Error(`the offer could not be answered: ${(error as Error).message ?? error}`);
    }
    if (this.#ended) return;
    const answer = withVideoBitrate(
      filterSdp(peer.localDescription?.sdp ?? "", this.#route.iceFilter),
      this.#route.videoBitrate,
    );
    this.#wire.send({ type: "answer", sdp: answer });
    this.#answered = true;
    for (const candidate of this.#outgoing.splice(0)) this.#wire.send(candidate);
  }

  #watch(peer: NativePeer): void {
    peer.onicecandidate = ({ candidate }) => {
      if (peer !== this.#peer || this.#ended) return;
      const filter = this.#route.iceFilter;
      if (candidate && filter && !filter(candidateAddress(candidate.candidate) ?? "")) return;
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
      if (this.#answered) this.#wire.send(message);
      else this.#outgoing.push(message);
    };
    peer.ondatachannel = ({ channel }) => this.#open(channel as Channel);
    peer.onconnectionstatechange = () => {
      if (peer !== this.#peer) return;
      const state = peer.connectionState;
      if (state === "connected") clearTimeout(this.#timer);
      if (state === "failed" || state === "closed") {
        this.#lost(1006, `the peer connection is ${state}`);
      }
    };
  }

  /** The video path: the offer's first video section is read, and answered with ours. */
  #startVideo(wrtc: Wrtc, peer: NativePeer): void {
    const video = new VideoPipe(
      wrtc,
      this.#route.video!,
      this.#route.videoOptions,
      this.#ctx,
      this.#host,
    );
    this.#video = video;
    const transceiver = peer.getTransceivers().find((t) => t.receiver.track?.kind === "video");
    if (!transceiver) throw new Error("the offer's video section has no track");
    video.receive(transceiver.receiver.track);
    transceiver.sender.replaceTrack(video.track).catch(() => {});
    transceiver.direction = "sendrecv";
    let reported = 0;
    this.#droppedTimer = setInterval(() => {
      const { dropped } = video.counts;
      if (dropped === reported) return;
      reported = dropped;
      this.#wire.send({ type: "dropped", count: dropped });
    }, DROPPED_INTERVAL_MS);
  }

  /**
   * Under CPU load libwebrtc's encoder lowers the resolution rather than the frame rate (its
   * default, "balanced", drops frames too): a filter's output should keep the camera's pace.
   */
  async #keepFrameRate(peer: NativePeer): Promise<void> {
    const sender = peer.getTransceivers().find((t) => t.receiver.track?.kind === "video")?.sender;
    if (!sender) return;
    await sender.setParameters({
      ...sender.getParameters(),
      degradationPreference: "maintain-framerate",
    }).catch(() => {});
  }

  async #candidate(candidate: unknown): Promise<void> {
    if (candidate === null || candidate === undefined) return; // end of candidates
    const init = candidate as { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown };
    if (typeof init.candidate !== "string") {
      throw new TypeError("an icecandidate needs `candidate.candidate` as a string");
    }
    if (init.candidate === "") return; // end of candidates, as browsers say it
    const peer = this.#peer;
    if (!peer) return void this.#early.push(candidate); // added once the offer is set
    const filter = this.#route.iceFilter;
    if (filter && !filter(candidateAddress(init.candidate) ?? "")) return; // not checked
    await peer.addIceCandidate({
      candidate: init.candidate,
      sdpMid: typeof init.sdpMid === "string" ? init.sdpMid : undefined,
      sdpMLineIndex: typeof init.sdpMLineIndex === "number" ? init.sdpMLineIndex : 0,
    });
  }

  /** The client's DataChannel: the first runs the realtime session; others are closed. */
  #open(channel: Channel): void {
    if (this.#ended || this.#channel) return channel.close();
    this.#channel = channel;
    channel.onclose = () => this.#lost(CloseCode.NORMAL, "the DataChannel closed");
    const start = () => {
      if (this.#ended || this.#session) return;
      clearTimeout(this.#timer);
      const route = this.#channelRoute;
      if (!route) return refuseInputs(channel);
      const served = isLatestWins(channel) ? { ...route, buffering: 1 } : route;
      this.#session = new RealtimeSession(this.#socket, served, this.#ctx, this.#abort, this.#host);
      this.#forget?.();
      this.#forget = undefined;
      this.#socket.attach(channel);
    };
    if (channel.readyState === "open") start();
    else channel.onopen = start;
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
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    clearInterval(this.#droppedTimer);
    this.#wire.close();
    this.#video?.stop();
    const channel = this.#channel;
    if (channel && channel.readyState === "open") {
      if (drain) await drained(channel, DRAIN_WAIT_MS);
      channel.close();
    }
    if (this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(code, reason);
    const peer = this.#peer;
    this.#peer = undefined;
    if (peer) closePeer(peer);
  }
}

/** A DataChannel on an endpoint with no realtime route: each binary message is refused. */
function refuseInputs(channel: Channel): void {
  let refused = 0;
  channel.onmessage = () => {
    // One refusal a message, while the channel drains; past that they are not answered.
    if (channel.bufferedAmount > 64 * 1024 || ++refused > 1_000) return;
    channel.send(errorFrame(
      "INVALID_INPUT",
      "this WebRTC endpoint has no realtime route: add `endpoint` to app.webrtc() to send inputs",
    ));
  };
}

/** Wait until the channel has sent what it holds, or `ms` at most. */
async function drained(channel: Channel, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (channel.bufferedAmount > 0 && channel.readyState === "open" && performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Close a native peer (synchronous in libwebrtc; errors of an already closed peer ignored). */
function closePeer(peer: NativePeer): void {
  peer.onicecandidate = null;
  peer.ondatachannel = null;
  peer.onconnectionstatechange = null;
  try {
    peer.close();
  } catch {
    // already closed
  }
}
