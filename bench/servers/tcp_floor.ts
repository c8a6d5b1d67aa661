/**
 * `tcp-floor`: a raw TCP echo server (Deno.listen), the floor of every round trip.
 *
 * @module
 */
import { runControl } from "./control.ts";

/** Echo everything a connection sends until it closes. */
async function echo(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(256 * 1024);
  try {
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      for (let sent = 0; sent < n;) sent += await conn.write(buffer.subarray(sent, n));
    }
  } catch {
    // The client went away.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
(async () => {
  for await (const conn of listener) echo(conn);
})();
await runControl(listener.addr.port);
