/**
 * A WebSocket upgrade spoken by hand over TCP, with any headers (`Origin`, `Authorization`),
 * that reads the server's answer whole: its status, headers and JSON body when refused. An
 * accepted socket is closed cleanly (close frame, then the server's close).
 *
 * @module
 */
import { within } from "./_realtime_helpers.ts";

/** The server's answer to an upgrade request. */
export interface Handshake {
  /** The HTTP status (101 when upgraded). */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body parsed as JSON, when there is one. */
  body: unknown;
}

/**
 * Ask for a WebSocket upgrade and read the answer; an upgraded socket is closed at once.
 *
 * @param port The server's port on 127.0.0.1.
 * @param path The path and query.
 * @param headers Extra request headers.
 * @returns The status, headers and body.
 */
export async function handshake(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Handshake> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    return await within(talk(conn, port, path, headers), `the upgrade of ${path}`);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the peer already */ }
  }
}

async function talk(
  conn: Deno.Conn,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<Handshake> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  await write(
    conn,
    new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `${extra}\r\n`,
    ),
  );
  let data: Uint8Array = new Uint8Array(0);
  let headEnd = -1;
  while (headEnd < 0) {
    const chunk = await read(conn);
    if (!chunk) throw new Error("The connection ended inside the response head");
    data = concat(data, chunk);
    headEnd = indexOfBlankLine(data);
  }
  const [statusLine, ...lines] = new TextDecoder().decode(data.subarray(0, headEnd)).split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const responseHeaders = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    responseHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (status === 101) {
    // A masked close frame with code 1000, then wait for the server to close its side.
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const payload = [0x03, 0xe8].map((byte, i) => byte ^ mask[i]);
    await write(conn, new Uint8Array([0x88, 0x82, ...mask, ...payload]));
    while (await read(conn)) { /* until the server closes the connection */ }
    return { status, headers: responseHeaders, body: undefined };
  }
  const length = Number(responseHeaders.get("content-length") ?? 0);
  let body: Uint8Array = data.subarray(headEnd + 4);
  while (body.length < length) {
    const chunk = await read(conn);
    if (!chunk) break;
    body = concat(body, chunk);
  }
  const text = new TextDecoder().decode(body.subarray(0, length));
  return { status, headers: responseHeaders, body: text ? JSON.parse(text) : undefined };
}

async function read(conn: Deno.Conn): Promise<Uint8Array | undefined> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    const n = await conn.read(buffer);
    return n === null ? undefined : buffer.subarray(0, n);
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionReset) return undefined;
    throw error;
  }
}

async function write(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const whole = new Uint8Array(a.length + b.length);
  whole.set(a);
  whole.set(b, a.length);
  return whole;
}

function indexOfBlankLine(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}
