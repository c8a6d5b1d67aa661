/**
 * werift's peer configuration for the bench's WebRTC variant, server and client alike: one
 * 127.0.0.1 host candidate, and candidate pairs between such candidates only, so that the
 * DataChannel runs over loopback like every other variant.
 *
 * @module
 */

/** werift `RTCPeerConnection` options: loopback only. */
export const WEBRTC_LOOPBACK: Record<string, unknown> = {
  iceUseIpv6: false,
  iceInterfaceAddresses: { udp4: "127.0.0.1" },
  iceAdditionalHostAddresses: ["127.0.0.1"],
  iceFilterCandidatePair: (
    pair: { localCandidate: { host: string }; remoteCandidate: { host: string } },
  ): boolean =>
    pair.localCandidate.host === "127.0.0.1" && pair.remoteCandidate.host === "127.0.0.1",
};
