/**
 * Clients of the floor servers, written against the platform only (Deno.connect, WebSocket,
 * fetch, and libwebrtc's `RTCPeerConnection` for the WebRTC floor) with reused msgpack
 * Encoder/Decoder: what rally's client is compared with.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { Duplex } from "./drivers.ts";
import { PROMPT } from "./messages.ts";
import { wrtc } from "../../tests/webrtc/_wrtc.ts";

const encoder = new Encoder();
const decoder = new Decoder();

/**
 * A raw TCP stream to an echo server. Answers are counted by bytes: every message has the
 * same length, so no framing is needed.
 *
 * @param port The echo server's port on 127.0.0.1.
 * @param message The bytes of one message.
 * @returns The stream.
 */
export async function tcpDuplex(port: number, message: Uint8Array): Promise<Duplex> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(256 * 1024);
  let unread = 0; // bytes received and not yet taken as an answer
  let writing = Promise.resolve();
  async function writeAll(): Promise<void> {
    for (let sent = 0; sent < message.length;) sent += await conn.write(message.subarray(sent));
  }
  return {
    send(): void {
      writing = writing.then(writeAll);
    },
    async receive(): Promise<void> {
      while (unread < message.length) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("tcp-floor closed the connection");
        unread += n;
      }
      unread -= message.length;
    },
    async close(): Promise<void> {
      await writing;
      conn.close();
    },
  };
}

/** Received messages waiting for `next()`, and callers waiting for messages. */
class Inbox {
  #messages: unknown[] = [];
  #waiters: { resolve(message: unknown): void; reject(error: Error): void }[] = [];
  #error: Error | undefined;

  push(message: unknown): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.#messages.push(message);
  }

  fail(error: Error): void {
    this.#error ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  next(): Promise<unknown> {
    if (this.#messages.length > 0) return Promise.resolve(this.#messages.shift());
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

/**
 * A bare WebSocket client.
 *
 * @param url The server's base URL (`http://127.0.0.1:<port>`).
 * @param path The WebSocket path.
 * @param format `"msgpack"` sends `{ prompt }` and decodes each answer; `"echo"` sends
 *   `payload` as one binary frame and takes the answer as is.
 * @param payload The bytes to send with `"echo"`.
 * @returns The stream, once the socket is open.
 */
export async function webSocketDuplex(
  url: string,
  path: string,
  format: "msgpack" | "echo",
  payload?: Uint8Array<ArrayBuffer>,
): Promise<Duplex> {
  const socket = new WebSocket(new URL(path, url.replace(/^http/, "ws")));
  socket.binaryType = "arraybuffer";
  const inbox = new Inbox();
  const closed = new Promise<void>((resolve) => {
    socket.onclose = () => {
      inbox.fail(new Error(`WebSocket ${path} closed`));
      resolve();
    };
  });
  socket.onmessage = format === "msgpack"
    ? (event) => inbox.push(decoder.decode(event.data))
    : (event) => inbox.push(event.data);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`Cannot open WebSocket ${path}`));
  });
  const message = payload ?? new Uint8Array();
  return {
    send: format === "msgpack"
      ? () => socket.send(encoder.encodeSharedRef({ prompt: PROMPT }))
      : () => socket.send(message),
    receive: () => inbox.next(),
    async close(): Promise<void> {
      socket.close();
      await closed;
    },
  };
}

/**
 * A bare fetch JSON POST of `{ prompt }` (keep-alive is fetch's default).
 *
 * @param url The endpoint's URL.
 * @returns A function making one request and resolving with the parsed answer.
 */
export function httpJsonRequest(url: string): () => Promise<unknown> {
  const body = JSON.stringify({ prompt: PROMPT });
  const headers = { "content-type": "application/json" };
  return async () => {
    const response = await fetch(url, { method: "POST", headers, body });
    if (!response.ok) throw new Error(`http-floor answered ${response.status}`);
    return await response.json();
  };
}

/**
 * An ordered DataChannel to the WebRTC floor (`webrtc_floor.ts`), negotiated with one HTTP
 * request carrying every candidate: libwebrtc on both sides, nothing of rally's.
 *
 * @param url The floor server's `http://` URL.
 * @param format `"msgpack"`: `{ prompt }` in, `{ output }` decoded; `"echo"`: `payload` back.
 * @param payload The bytes each message carries when `format` is `"echo"`.
 * @returns The stream.
 */
export async function webrtcDuplex(
  url: string,
  format: "msgpack" | "echo",
  payload?: Uint8Array<ArrayBuffer>,
): Promise<Duplex> {
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  const channel = peer.createDataChannel(format, { ordered: true });
  channel.binaryType = "arraybuffer";
  const inbox = new Inbox();
  const closed = new Promise<void>((resolve) => {
    channel.onclose = () => {
      inbox.fail(new Error("the WebRTC floor's DataChannel closed"));
      resolve();
    };
  });
  channel.onmessage = format === "msgpack"
    ? (event) => inbox.push(decoder.decode(event.data as ArrayBuffer))
    : (event) => inbox.push(event.data);
  const opened = new Promise<void>((resolve) => channel.onopen = () => resolve());
  // Every candidate goes in the offer: gathering has ended with the empty candidate.
  const gathered = new Promise<void>((resolve) => {
    peer.onicecandidate = ({ candidate }) => candidate === null && resolve();
  });
  await peer.setLocalDescription(await peer.createOffer());
  await gathered;
  const response = await fetch(url, {
    method: "POST",
    body: JSON.stringify(peer.localDescription),
  });
  if (!response.ok) throw new Error(`The WebRTC floor answered ${response.status}`);
  await peer.setRemoteDescription(await response.json());
  await opened;
  const message = payload ?? new Uint8Array();
  return {
    send: format === "msgpack"
      ? () => channel.send(encoder.encodeSharedRef({ prompt: PROMPT }))
      : () => channel.send(message),
    receive: () => inbox.next(),
    async close(): Promise<void> {
      channel.close();
      await closed;
      peer.close();
    },
  };
}
