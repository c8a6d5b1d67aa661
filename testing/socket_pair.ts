/**
 * Two connected in-memory WebSockets: what `testClient()` puts where a TCP connection would be.
 * Each end behaves as a `WebSocket` does: `readyState` from `CONNECTING` to `CLOSED`; messages
 * delivered asynchronously, one event each, in the order they were sent; text as strings and
 * binary as `ArrayBuffer` (or `Blob`, by `binaryType`); bytes copied at `send()`;
 * `bufferedAmount` counting what was sent and not yet delivered; the closing handshake (the
 * peer's close event first, with the initiator's code and reason, then the initiator's; 1005
 * when no code was given); 1006 with `wasClean: false` for a connection cut or refused.
 *
 * @module
 */

/** The readyState values. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** What travels from one end to the other. */
type Frame =
  | { kind: "message"; data: string | ArrayBuffer; size: number }
  | { kind: "close"; code: number; reason: string; reply: boolean };

/**
 * Deliveries, all sockets together, in one first-in first-out queue: each runs in its own
 * microtask, so that what a listener queues (promise reactions) runs before the next delivery,
 * as between two socket events. Every {@link FAIRNESS} deliveries in a row, one goes through a
 * timer instead, so that a conversation that never pauses cannot starve timers.
 */
const deliveries: (() => void)[] = [];
let head = 0;
let running = false;
let streak = 0;
const FAIRNESS = 256;

function schedule(delivery: () => void): void {
  deliveries.push(delivery);
  if (!running) {
    running = true;
    next();
  }
}

function next(): void {
  if (++streak >= FAIRNESS) {
    streak = 0;
    setTimeout(step, 0);
  } else queueMicrotask(step);
}

function step(): void {
  const delivery = deliveries[head++];
  if (head > 1024 && head * 2 > deliveries.length) {
    deliveries.splice(0, head);
    head = 0;
  }
  if (head >= deliveries.length) {
    deliveries.length = 0;
    head = 0;
    running = false;
  } else next();
  delivery();
}

type Handler<E extends Event> = ((event: E) => void) | null;

/**
 * One end of an in-memory WebSocket connection: usable wherever a `WebSocket` is (cast it).
 * Made in pairs by {@link socketPair}.
 */
export class MemorySocket extends EventTarget {
  /** `WebSocket.CONNECTING`. */
  readonly CONNECTING = CONNECTING;
  /** `WebSocket.OPEN`. */
  readonly OPEN = OPEN;
  /** `WebSocket.CLOSING`. */
  readonly CLOSING = CLOSING;
  /** `WebSocket.CLOSED`. */
  readonly CLOSED = CLOSED;
  /** The URL the client asked for. */
  readonly url: string;
  /** The subprotocol: none. */
  readonly protocol = "";
  /** The extensions: none. */
  readonly extensions = "";
  /** How binary messages are delivered. */
  binaryType: BinaryType;
  /** The other end, once paired. */
  peer?: MemorySocket;
  #state = CONNECTING;
  #buffered = 0;
  #client: boolean;
  #handlers: Record<string, Handler<Event>> = {};
  #closed = Promise.withResolvers<void>();
  /** Set once a cut is scheduled: nothing more is delivered to this end. */
  #ending = false;

  /**
   * Make one end.
   *
   * @param url The URL the client asked for.
   * @param client Whether this is the client's end (its close codes are checked as browsers
   * check them; binary defaults to `Blob`, as on a client `WebSocket`).
   */
  constructor(url: string, client: boolean) {
    super();
    this.url = url;
    this.#client = client;
    this.binaryType = client ? "blob" : "arraybuffer";
  }

  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): number {
    return this.#state;
  }

  /** Bytes sent and not yet delivered to the other end. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Resolves once this end has closed and dispatched its close event. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Called once open. */
  get onopen(): Handler<Event> {
    return this.#handlers.open ?? null;
  }
  set onopen(handler: Handler<Event>) {
    this.#handle("open", handler);
  }

  /** Called with each message. */
  get onmessage(): Handler<MessageEvent> {
    return this.#handlers.message ?? null;
  }
  set onmessage(handler: Handler<MessageEvent>) {
    this.#handle("message", handler as Handler<Event>);
  }

  /** Called once closed. */
  get onclose(): Handler<CloseEvent> {
    return this.#handlers.close ?? null;
  }
  set onclose(handler: Handler<CloseEvent>) {
    this.#handle("close", handler as Handler<Event>);
  }

  /** Called when the connection fails. */
  get onerror(): Handler<Event> {
    return this.#handlers.error ?? null;
  }
  set onerror(handler: Handler<Event>) {
    this.#handle("error", handler);
  }

  /**
   * Send a message: text, or bytes (copied now).
   *
   * @param data The message.
   * @throws {DOMException} `InvalidStateError` while connecting.
   * @throws {TypeError} for a `Blob` (in-memory sockets take text and bytes).
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#state === CONNECTING) {
      throw new DOMException("'readyState' not OPEN", "InvalidStateError");
    }
    if (data instanceof Blob) {
      throw new TypeError("Cannot send a Blob on an in-memory socket: send its bytes instead");
    }
    if (this.#state !== OPEN) return; // as Deno's sockets: dropped once closing
    let frame: Frame;
    if (typeof data === "string") {
      frame = { kind: "message", data, size: utf8Length(data) };
    } else {
      const view = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      frame = { kind: "message", data: view.slice().buffer, size: view.byteLength };
    }
    this.#buffered += frame.size;
    this.#transmit(frame);
  }

  /**
   * Start the closing handshake.
   *
   * @param code The close code (a client's: 1000 or 3000..4999).
   * @param reason The reason (at most 123 bytes).
   * @throws {DOMException} `InvalidAccessError` for a code a client may not send, `SyntaxError`
   * for a reason too long.
   */
  close(code?: number, reason = ""): void {
    if (this.#client && code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(
        `The close code must be either 1000 or in the range of 3000 to 4999: received ${code}`,
        "InvalidAccessError",
      );
    }
    if (utf8Length(reason) > 123) {
      throw new DOMException("The close reason may not be longer than 123 bytes", "SyntaxError");
    }
    if (this.#state === CONNECTING) return this.terminate();
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#transmit({ kind: "close", code: code ?? 1005, reason, reply: false });
  }

  /** Open this end (the handshake succeeded): its open event follows. */
  open(): void {
    schedule(() => {
      if (this.#state !== CONNECTING) return;
      this.#state = OPEN;
      this.dispatchEvent(new Event("open"));
    });
  }

  /**
   * Cut the connection, as a network failure would: both ends close with 1006, not cleanly.
   *
   * @param message For a client whose handshake failed: the error event's message.
   */
  terminate(message?: string): void {
    for (const end of [this, this.peer]) {
      // A peer still connecting has not been handed over yet: whoever opens it ends it.
      if (!end || end.#state === CLOSED || end.#ending) continue;
      if (end !== this && end.#state === CONNECTING) continue;
      end.#ending = true;
      schedule(() => end.#finish(1006, "", false, message));
    }
  }

  #transmit(frame: Frame): void {
    const peer = this.peer;
    schedule(() => {
      if (frame.kind === "message") this.#buffered -= frame.size;
      if (peer) peer.#receive(frame);
    });
  }

  #receive(frame: Frame): void {
    if (this.#state === CLOSED || this.#ending) return;
    if (frame.kind === "message") {
      if (this.#state !== OPEN) return;
      const data = typeof frame.data === "string" || this.binaryType === "arraybuffer"
        ? frame.data
        : new Blob([frame.data]);
      this.dispatchEvent(new MessageEvent("message", { data, origin: new URL(this.url).origin }));
      return;
    }
    if (!frame.reply && this.#state === OPEN) {
      this.#state = CLOSING;
      this.#transmit({ ...frame, reply: true });
    }
    this.#finish(frame.code, frame.reason, true);
  }

  #finish(code: number, reason: string, wasClean: boolean, error?: string): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    if (error !== undefined) this.dispatchEvent(new ErrorEvent("error", { message: error }));
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
    this.#closed.resolve();
  }

  #handle(type: string, handler: Handler<Event>): void {
    if (!(type in this.#handlers)) {
      this.addEventListener(type, (event) => this.#handlers[type]?.call(this, event));
    }
    this.#handlers[type] = handler;
  }
}

/**
 * Make a connected pair, both ends connecting: `open()` both once the handshake succeeds, or
 * `terminate()` the client's when it fails.
 *
 * @param url The URL the client asked for.
 * @returns The client's end and the server's.
 */
export function socketPair(url: string): { client: MemorySocket; server: MemorySocket } {
  const client = new MemorySocket(url, true);
  const server = new MemorySocket(url, false);
  client.peer = server;
  server.peer = client;
  return { client, server };
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}
