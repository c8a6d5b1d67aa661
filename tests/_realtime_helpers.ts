/**
 * Helpers for the realtime, raw WebSocket, client and shutdown tests: a served App on a free
 * port, a plain Deno WebSocket peer that reads frames one at a time, and a WebSocket spoken by
 * hand over TCP (for a client that stops reading, and for servers that misbehave on purpose).
 *
 * @module
 */
import { Codec } from "../codec.ts";
import { Inbox } from "../internal/inbox.ts";
import type { ErrorFrame } from "../protocol.ts";
import { type App, serve, type Server } from "../server/mod.ts";

/** The longest any test waits for one thing, in ms: generous, for a busy 2-core machine. */
export const WAIT_MS = 10_000;

/** One codec for the tests. */
export const codec: Codec = new Codec();

/** A served App and its base URLs. */
export interface Served extends Server {
  /** `http://127.0.0.1:PORT`. */
  readonly http: string;
  /** `ws://127.0.0.1:PORT`. */
  readonly ws: string;
}

/**
 * Serve an App on 127.0.0.1, on a free port, without signal handlers or log lines.
 *
 * @param app The app.
 * @param shutdownGraceMs The drain grace at shutdown.
 * @param port The port; by default a free one.
 * @returns The server, with its URLs.
 */
export function listen(app: App, shutdownGraceMs = 5_000, port = 0): Served {
  const server = serve(app, {
    port,
    hostname: "127.0.0.1",
    signals: false,
    shutdownGraceMs,
    onListen() {},
  });
  const { port: bound } = server.addr;
  return Object.assign(server, {
    http: `http://127.0.0.1:${bound}`,
    ws: `ws://127.0.0.1:${bound}`,
  });
}

/**
 * Settle with `promise`, or fail after `ms`.
 *
 * @param promise What to wait for.
 * @param what Named in the failure.
 * @param ms How long to wait.
 * @returns The promise's value.
 */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Poll until `condition` holds, or fail after `ms`.
 *
 * @param condition What must become true.
 * @param what Named in the failure.
 * @param ms How long to wait.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = WAIT_MS,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await delay(10);
  }
}

/**
 * How many inputs the server has received on its realtime sessions (open and closed), from
 * `GET /metrics`: the App must have `metrics: true`. An input counts as soon as the server has
 * read its frame, before any handler call.
 *
 * @param server The served App.
 * @returns The count.
 */
export async function inputsReceived(server: Served): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("rally_messages_received_total{") && l.includes('kind="realtime"')
  );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * Wait until the server has read `count` realtime inputs (see {@link inputsReceived}).
 *
 * @param server The served App (with `metrics: true`).
 * @param count How many.
 */
export function waitForInputs(server: Served, count: number): Promise<void> {
  return waitFor(
    async () => await inputsReceived(server) >= count,
    `the server to read ${count} inputs`,
  );
}

/**
 * Sleep; abort rejects at once with the signal's reason (and clears the timer).
 *
 * @param ms How long.
 * @param signal Cuts the sleep short.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A promise that resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * A plain Deno `WebSocket` (binaryType `"arraybuffer"`) whose frames are read one at a time.
 * Meta frames (`x-fal-message`) are skipped, so that tests see outputs and error frames only,
 * unless the peer is opened with `{ meta: true }`.
 */
export class Peer implements AsyncDisposable {
  /** The socket. */
  readonly socket: WebSocket;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  #inbox = new Inbox<string | ArrayBuffer>();

  private constructor(socket: WebSocket, meta: boolean) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer;
      if (!meta && typeof data === "string" && data.includes('"type":"x-fal-message"')) return;
      this.#inbox.push(data);
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        this.#inbox.end();
        resolve(event);
      });
    });
  }

  /**
   * Open a socket and wait until it is open.
   *
   * @param url The `ws://` URL.
   * @param options `meta: true` keeps meta frames in line with the others.
   * @returns The open peer.
   */
  static async open(url: string, options: { meta?: boolean } = {}): Promise<Peer> {
    const peer = new Peer(new WebSocket(url), options.meta ?? false);
    const opened = new Promise<void>((resolve) => peer.socket.onopen = () => resolve());
    const closed = peer.closed.then((event) => {
      throw new Error(`${url} closed before opening (code ${event.code})`);
    });
    await within(Promise.race([opened, closed]), `opening ${url}`);
    return peer;
  }

  /** Send one input as a msgpack binary frame. */
  send(input: unknown): void {
    this.socket.send(codec.encode(input));
  }

  /** The next frame (not a meta frame, unless kept): text as a string, binary as an ArrayBuffer. */
  async next(): Promise<string | ArrayBuffer> {
    const frame = await within(this.#inbox.next(), "the next frame");
    if (frame === undefined) throw new Error("The socket closed while a frame was awaited");
    return frame;
  }

  /** The next frame, which must be binary, decoded. */
  async output(): Promise<unknown> {
    const frame = await this.next();
    if (typeof frame === "string") throw new Error(`Expected an output, got text: ${frame}`);
    return codec.decode(frame);
  }

  /** The next frame, which must be a text error frame, parsed. */
  async control(): Promise<ErrorFrame> {
    const frame = await this.next();
    if (typeof frame !== "string") {
      throw new Error(`Expected a text frame, got output ${JSON.stringify(codec.decode(frame))}`);
    }
    return JSON.parse(frame);
  }

  /**
   * Read every frame until the server closes the socket.
   *
   * @returns The frames: text as a string, binary decoded.
   */
  async rest(): Promise<unknown[]> {
    const frames: unknown[] = [];
    for (;;) {
      const frame = await within(this.#inbox.next(), "the next frame or the close");
      if (frame === undefined) return frames;
      frames.push(typeof frame === "string" ? frame : codec.decode(frame));
    }
  }

  /** Wait for the server to close the socket. */
  closeEvent(): Promise<CloseEvent> {
    return within(this.closed, "the socket to close");
  }

  /** Close (if still open) and wait until closed. */
  close(): Promise<CloseEvent> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    return this.closeEvent();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close().then(() => {});
  }
}

/** WebSocket opcodes. */
export const Op = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One frame read by {@link RawWebSocket}. */
export interface RawFrame {
  /** The opcode. */
  opcode: number;
  /** The unmasked payload (a copy the caller owns). */
  payload: Uint8Array;
}

/**
 * A WebSocket spoken by hand over a TCP connection: frames are read only when asked for, so
 * a test can stop reading and let the other side's buffers fill. Client sockets mask their
 * frames, server sockets do not.
 */
export class RawWebSocket implements Disposable {
  /** The TCP connection. */
  readonly conn: Deno.Conn;
  #masked: boolean;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /**
   * @param conn A connection past its HTTP upgrade.
   * @param masked Whether frames written are masked (true for a client).
   */
  constructor(conn: Deno.Conn, masked: boolean) {
    this.conn = conn;
    this.#masked = masked;
  }

  /** Read the HTTP head (up to the empty line) that starts the connection. */
  async readHead(): Promise<string> {
    while (true) {
      const view = this.#buf.subarray(this.#start, this.#end);
      for (let i = 0; i + 3 < view.length; i++) {
        if (view[i] === 13 && view[i + 1] === 10 && view[i + 2] === 13 && view[i + 3] === 10) {
          this.#start += i + 4;
          return new TextDecoder().decode(view.subarray(0, i));
        }
      }
      if (!await this.#fill(view.length + 1)) {
        throw new Error("The connection ended inside an HTTP head");
      }
    }
  }

  /**
   * Read one frame.
   *
   * @returns The frame, or `undefined` when the connection ended.
   */
  async readFrame(): Promise<RawFrame | undefined> {
    if (!await this.#fill(2)) return undefined;
    const b0 = this.#buf[this.#start];
    const b1 = this.#buf[this.#start + 1];
    let length = b1 & 0x7f;
    let offset = 2;
    if (length >= 126) {
      const width = length === 126 ? 2 : 8;
      if (!await this.#fill(2 + width)) return undefined;
      const data = new DataView(this.#buf.buffer, this.#start + 2, width);
      length = width === 2 ? data.getUint16(0) : Number(data.getBigUint64(0));
      offset += width;
    }
    const mask = (b1 & 0x80) !== 0;
    if (mask) offset += 4;
    if (!await this.#fill(offset + length)) return undefined;
    const payload = this.#buf.slice(this.#start + offset, this.#start + offset + length);
    if (mask) {
      const key = this.#buf.subarray(this.#start + offset - 4, this.#start + offset);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    }
    this.#start += offset + length;
    return { opcode: b0 & 0x0f, payload };
  }

  /**
   * Write one final frame.
   *
   * @param opcode The opcode.
   * @param payload The payload.
   */
  async writeFrame(opcode: number, payload: Uint8Array | string = new Uint8Array()): Promise<void> {
    const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    const extended = data.length < 126 ? 0 : data.length < 65536 ? 2 : 8;
    const head = new Uint8Array(2 + extended + (this.#masked ? 4 : 0));
    head[0] = 0x80 | opcode;
    head[1] = (this.#masked ? 0x80 : 0) |
      (extended === 0 ? data.length : extended === 2 ? 126 : 127);
    const view = new DataView(head.buffer);
    if (extended === 2) view.setUint16(2, data.length);
    if (extended === 8) view.setBigUint64(2, BigInt(data.length));
    let body = data;
    if (this.#masked) {
      const key = crypto.getRandomValues(new Uint8Array(4));
      head.set(key, 2 + extended);
      body = data.map((byte, i) => byte ^ key[i & 3]);
    }
    await this.write(head);
    await this.write(body);
  }

  /** Write a close frame with a code. */
  writeClose(code: number): Promise<void> {
    const payload = new Uint8Array(2);
    new DataView(payload.buffer).setUint16(0, code);
    return this.writeFrame(Op.close, payload);
  }

  /** Write raw bytes, all of them. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.conn.write(bytes.subarray(done));
  }

  /** Close the TCP connection (again is fine). */
  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** Make sure `n` bytes are buffered; false when the connection ended first. */
  async #fill(n: number): Promise<boolean> {
    if (this.#end - this.#start >= n) return true;
    if (this.#buf.length - this.#start < n) {
      const bigger = new Uint8Array(Math.max(n, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#end -= this.#start;
    this.#start = 0;
    while (this.#end < n) {
      const read = await this.conn.read(this.#buf.subarray(this.#end));
      if (read === null) return false;
      this.#end += read;
    }
    return true;
  }
}

/**
 * Connect over TCP and ask for a WebSocket upgrade by hand.
 *
 * @param port The server's port on 127.0.0.1.
 * @param path The path (and query).
 * @returns The response's status and the socket (still open, whatever the status).
 */
export async function rawConnect(
  port: number,
  path: string,
): Promise<{ status: number; socket: RawWebSocket }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const socket = new RawWebSocket(conn, true);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await socket.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const head = await within(socket.readHead(), "the upgrade response");
  return { status: Number(head.split(" ")[1]), socket };
}

/**
 * Accept one TCP connection and answer its WebSocket upgrade by hand.
 *
 * @param listener A TCP listener.
 * @returns The upgrade request's head and the server side of the socket.
 */
export async function rawAccept(
  listener: Deno.Listener,
): Promise<{ request: string; socket: RawWebSocket }> {
  const conn = await within(listener.accept(), "a connection");
  const socket = new RawWebSocket(conn, false);
  const request = await within(socket.readHead(), "the upgrade request");
  const key = /^sec-websocket-key:\s*(\S+)/im.exec(request)?.[1];
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`),
  );
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  await socket.write(new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  ));
  return { request, socket };
}

/**
 * A bare `Deno.serve` (no rally) that upgrades every request and hands its socket over.
 *
 * @param onSocket Gets each server socket, once open, with its upgrade request.
 * @returns The server (shut it down at the end) and its `ws://` base URL.
 */
export function bareServer(
  onSocket: (socket: WebSocket, request: Request) => void,
): { server: Deno.HttpServer<Deno.NetAddr>; url: string } {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => onSocket(socket, request);
    return response;
  });
  return { server, url: `ws://127.0.0.1:${server.addr.port}` };
}
