/**
 * Churn: 10,000 WebSocket sessions opened and closed in parallel batches, in every way a client
 * can leave: before its first message, while its handler runs (with a close frame, or by
 * dropping the TCP connection), after its output, before the upgrade completes, and on a raw
 * WebSocket endpoint. Afterwards no session, handler call, timer or resource may remain.
 */
import assert from "node:assert/strict";
import { App } from "../server/mod.ts";
import {
  aborted,
  codec,
  listen,
  Op,
  Peer,
  rawConnect,
  type Served,
  waitFor,
  within,
} from "./_realtime_helpers.ts";

const CYCLES = 10_000;
const PARALLEL = 100;

type Input = { id: number; hold?: boolean };

/** An App whose `/rt` handler answers at once, or holds until its session ends. */
function churnApp() {
  const started = new Map<number, () => void>();
  const counts = { calls: 0, ended: 0, abortedHolds: 0 };
  const app = new App({ onError() {} })
    .realtime("/rt", { sessionTimeout: 30 }, async (input, ctx) => {
      const { id, hold } = input as Input;
      counts.calls++;
      try {
        if (!hold) return { id };
        started.get(id)?.();
        await aborted(ctx.signal);
        counts.abortedHolds++;
        return { id, late: true };
      } finally {
        counts.ended++;
      }
    })
    .websocket("/ws", async (socket) => {
      for await (const message of socket) socket.send(message);
    });
  /** A promise that resolves when the handler holds input `id`. */
  const holding = (id: number) => new Promise<void>((resolve) => started.set(id, resolve));
  return { app, counts, holding, forget: (id: number) => started.delete(id) };
}

type Kind = (server: Served, id: number, env: ReturnType<typeof churnApp>) => Promise<void>;

const KINDS: Record<string, Kind> = {
  "close before the first message": async (server) => {
    const peer = await Peer.open(`${server.ws}/rt`);
    await peer.close();
  },
  "close during the handler": async (server, id, env) => {
    const peer = await Peer.open(`${server.ws}/rt`);
    const held = env.holding(id);
    peer.send({ id, hold: true });
    await within(held, `handler ${id} to start`);
    env.forget(id);
    await peer.close();
  },
  "drop TCP during the handler": async (server, id, env) => {
    const { status, socket } = await rawConnect(server.addr.port, "/rt");
    using _ = socket;
    assert.equal(status, 101);
    const held = env.holding(id);
    await socket.writeFrame(Op.binary, codec.encode({ id, hold: true }));
    await within(held, `handler ${id} to start`);
    env.forget(id);
  },
  "close after the output": async (server, id) => {
    const peer = await Peer.open(`${server.ws}/rt`);
    peer.send({ id });
    assert.deepEqual(await peer.output(), { id });
    await peer.close();
  },
  "send and close at once": async (server, id) => {
    const peer = await Peer.open(`${server.ws}/rt`);
    peer.send({ id });
    await peer.close();
  },
  "drop TCP before the upgrade": async (server) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(
      new TextEncoder().encode("GET /rt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"),
    );
    conn.close();
  },
  "raw WebSocket: close before the first message": async (server) => {
    const peer = await Peer.open(`${server.ws}/ws`);
    await peer.close();
  },
  "raw WebSocket: echo, then close": async (server, id) => {
    const peer = await Peer.open(`${server.ws}/ws`);
    peer.socket.send(`m${id}`);
    assert.equal(await peer.next(), `m${id}`);
    await peer.close();
  },
};

Deno.test("10,000 sessions opened and closed in every way leave no session, call or resource behind", async () => {
  const env = churnApp();
  const { app, counts } = env;
  await using server = listen(app, 1_000);
  const names = Object.keys(KINDS);
  const ran: Record<string, number> = {};
  const started = performance.now();
  for (let batch = 0; batch < CYCLES; batch += PARALLEL) {
    await Promise.all(Array.from({ length: PARALLEL }, (_, k) => {
      const name = names[(batch + k) % names.length];
      ran[name] = (ran[name] ?? 0) + 1;
      return KINDS[name](server, batch + k, env);
    }));
  }
  const seconds = (performance.now() - started) / 1000;
  await waitFor(() => app.sessionCount === 0, `the sessions to end (${app.sessionCount} open)`);
  await waitFor(() => counts.ended === counts.calls, "every handler call to end");
  const held = ran["close during the handler"] + ran["drop TCP during the handler"];
  console.log(
    `churn: ${CYCLES} cycles in ${seconds.toFixed(1)} s; ${counts.calls} handler calls, ` +
      `${counts.abortedHolds} held calls aborted by their client leaving`,
  );
  assert.equal(counts.abortedHolds, held, "every held call saw its session end");
  // Outputs for close-after-output, held calls, and some of send-and-close (that one races).
  assert.ok(counts.calls >= held + ran["close after the output"]);
  const health = await fetch(`${server.http}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  await within(server.shutdown(), "a shutdown with nothing to drain");
});
