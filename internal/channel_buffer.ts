/**
 * A DataChannel's `bufferedAmount`, asked of the channel only when it could matter. In libwebrtc
 * (npm:@roamhq/wrtc, the server's peer and the Deno client's) every read of `bufferedAmount` or
 * `readyState` is a call into its signaling thread: 18–29 µs here, against a small message's
 * whole round trip of about 250 µs. Shared by rally's server and client (browser-safe).
 * Internal: not exported from the package's entry points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChannelBuffer } from "./channel_buffer.ts";
 *
 * let reads = 0;
 * const channel = {
 *   get bufferedAmount() {
 *     reads++;
 *     return 0; // everything went out
 *   },
 * };
 * const buffer = new ChannelBuffer(channel);
 * for (let i = 0; i < 500; i++) buffer.sent(20);
 * assert.equal(buffer.amount(), 10_000); // a bound, from what was sent: no read
 * assert.equal(reads, 0);
 * buffer.sent(100_000);
 * assert.equal(buffer.amount(), 0); // past the slack: the channel is asked
 * assert.equal(reads, 1);
 * ```
 *
 * @module
 */

/**
 * Up to this bound the channel is not asked. Every mark rally compares with (64 KiB and up) is
 * above it, so a bound at the slack never holds a wait for the channel to drain.
 */
export const CHANNEL_BUFFER_SLACK_BYTES = 16 * 1024;

/**
 * An upper bound of a channel's `bufferedAmount`: the last value read, plus every byte sent
 * since. Exact once over {@link CHANNEL_BUFFER_SLACK_BYTES}, where it reads the channel again,
 * so a comparison with a mark above the slack decides as the channel's own value would.
 */
export class ChannelBuffer {
  #channel: { readonly bufferedAmount: number };
  #bound = 0;

  /**
   * @param channel The DataChannel.
   */
  constructor(channel: { readonly bufferedAmount: number }) {
    this.#channel = channel;
  }

  /**
   * Count a message sent.
   *
   * @param bytes Its size in bytes, or more (a string's length times 3 bounds its UTF-8).
   */
  sent(bytes: number): void {
    this.#bound += bytes;
  }

  /**
   * The bytes queued on the channel, or an upper bound of them under the slack.
   *
   * @returns Bytes.
   */
  amount(): number {
    if (this.#bound <= CHANNEL_BUFFER_SLACK_BYTES) return this.#bound;
    return this.#bound = this.#channel.bufferedAmount;
  }
}
