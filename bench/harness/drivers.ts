/**
 * Drivers: the one interface the scenarios use to make any variant's client do round trips,
 * built either from a message stream (send/recv) or from a request function.
 *
 * @module
 */

/** A connected client of one variant, sending one fixed message. */
export interface Driver {
  /** Send the message and wait for its answer. */
  roundTrip(): Promise<void>;
  /**
   * Keep `depth` messages in flight (HTTP: `depth` concurrent requests) until `count` answers
   * have arrived or `deadline` (a `performance.now()` time) has passed, whichever is first.
   *
   * @returns The number of answers received.
   */
  pipeline(depth: number, count: number, deadline: number): Promise<number>;
  /** Close the connection. */
  close(): Promise<void>;
}

/** A message stream: answers come back in the order messages were sent. */
export interface Duplex {
  /** Send the message without waiting. */
  send(): void;
  /** Wait for the next answer. */
  receive(): Promise<unknown>;
  /** Close the stream. */
  close(): Promise<void>;
}

/**
 * A driver over a message stream: pipelining keeps a window of `depth` unanswered messages.
 *
 * @param duplex The stream.
 * @returns Its driver.
 */
export function streamDriver(duplex: Duplex): Driver {
  return {
    async roundTrip(): Promise<void> {
      duplex.send();
      await duplex.receive();
    },
    async pipeline(depth: number, count: number, deadline: number): Promise<number> {
      let sent = 0;
      for (; sent < depth && sent < count; sent++) duplex.send();
      let received = 0;
      while (received < sent) {
        await duplex.receive();
        received++;
        if (sent < count && performance.now() < deadline) {
          duplex.send();
          sent++;
        }
      }
      return received;
    },
    close: () => duplex.close(),
  };
}

/**
 * A driver over one-request-one-answer calls: pipelining runs `depth` concurrent callers.
 *
 * @param request Make one request and resolve when its answer is read.
 * @returns Its driver.
 */
export function requestDriver(request: () => Promise<unknown>): Driver {
  return {
    async roundTrip(): Promise<void> {
      await request();
    },
    async pipeline(depth: number, count: number, deadline: number): Promise<number> {
      let started = 0;
      async function caller(): Promise<void> {
        while (started < count && performance.now() < deadline) {
          started++;
          await request();
        }
      }
      await Promise.all(Array.from({ length: depth }, caller));
      return started;
    },
    close: () => Promise.resolve(),
  };
}
