/**
 * `webrtc-floor`: libwebrtc's peer (npm:@roamhq/wrtc) with nothing of rally's. `POST /` takes
 * an offer `{ type, sdp }` with every candidate in it and answers likewise (no trickle); on the
 * DataChannel the client opens, a channel labelled `msgpack` answers `{ prompt }` with
 * `{ output }`, any other sends every message back unchanged (the raw binary floor).
 *
 * @module
 */
import { loadWrtc } from "../../server/webrtc/wrtc.ts";
import { runControl } from "./control.ts";
import { reply } from "./reply.ts";

/** A libwebrtc DataChannel, as far as this server uses it. */
interface Channel {
  label: string;
  binaryType: string;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null;
  send(data: Uint8Array): void;
}

const wrtc = await loadWrtc();

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
  if (request.method !== "POST") return new Response(null, { status: 405 });
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  peer.onconnectionstatechange = () => {
    if (peer.connectionState === "failed" || peer.connectionState === "disconnected") peer.close();
  };
  peer.ondatachannel = (event) => {
    const channel = event.channel as Channel;
    channel.binaryType = "arraybuffer";
    channel.onmessage = channel.label === "msgpack"
      ? (message) => channel.send(reply(message.data))
      : (message) => channel.send(new Uint8Array(message.data));
  };
  // Every candidate goes in the answer: gathering has ended with the empty candidate.
  const gathered = new Promise<void>((resolve) => {
    peer.onicecandidate = ({ candidate }) => candidate === null && resolve();
  });
  await peer.setRemoteDescription(await request.json());
  await peer.setLocalDescription(await peer.createAnswer());
  await gathered;
  return Response.json(peer.localDescription);
});
await runControl(server.addr.port); // it exits the process, before Deno's teardown
