/**
 * One client process of the load test (`bench/load.ts` starts several): it opens realtime
 * sessions with rally's own client, keeps them open, and drives the first few of them at a fixed
 * rate, timing each round trip. It speaks newline-delimited JSON: it prints `{"opened"}` once
 * its sessions are open, waits for `go` on stdin, runs for the given time, prints `{"result"}`,
 * then waits for `close`, closes every session and prints `{"closed"}`.
 *
 * `deno run -A bench/harness/load_client.ts URL SESSIONS ACTIVE RATE SECONDS`
 *
 * @module
 */
import { realtime, type RealtimeConnection } from "../../client/mod.ts";
import { readLines } from "./lines.ts";

type Input = { prompt: string };
type Output = { output: string };

const [url, sessionsArg, activeArg, rateArg, secondsArg] = Deno.args;
const sessions = Number(sessionsArg);
const active = Number(activeArg);
const intervalMs = 1000 / Number(rateArg);
const seconds = Number(secondsArg);
/** Sessions opened at once. */
const OPEN_BATCH = 50;

const commands = readLines(Deno.stdin.readable);
const errors: string[] = [];
let closing = false;

function say(message: unknown): void {
  console.log(JSON.stringify(message));
}

async function expect(command: string): Promise<void> {
  const line = await commands.next();
  if (line.done || line.value !== command) {
    throw new Error(`expected "${command}", got ${line.value}`);
  }
}

function error(message: string): void {
  if (errors.length < 20) errors.push(message);
  else if (errors.length === 20) errors.push("(more errors left out)");
  errorCount++;
}
let errorCount = 0;

/** Watch an idle session: anything but our own close counts as an error. */
function watch(conn: RealtimeConnection<Input, Output>, index: number): void {
  conn.receive().then(
    (output) => {
      if (!closing) {
        error(`session ${index}: ${output === undefined ? "ended" : "unexpected output"}`);
      }
    },
    (reason) => {
      if (!closing) error(`session ${index}: ${(reason as Error).message}`);
    },
  );
}

const conns: RealtimeConnection<Input, Output>[] = [];
const openStarted = performance.now();
let openFailures = 0;
for (let i = 0; i < sessions; i += OPEN_BATCH) {
  const batch = await Promise.allSettled(
    Array.from(
      { length: Math.min(OPEN_BATCH, sessions - i) },
      () => realtime<Input, Output>(url, { path: "/realtime" }),
    ),
  );
  for (const settled of batch) {
    if (settled.status === "fulfilled") conns.push(settled.value);
    else {
      openFailures++;
      error(`open: ${(settled.reason as Error).message}`);
    }
  }
}
conns.slice(active).forEach((conn, i) => watch(conn, active + i));
say({ opened: conns.length, failures: openFailures, ms: performance.now() - openStarted });

await expect("go");
const rtts: number[] = [];
let sent = 0;
const deadline = performance.now() + seconds * 1000;

/** One active session: a message every `intervalMs`, each round trip timed. */
async function drive(conn: RealtimeConnection<Input, Output>, index: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * intervalMs)); // spread out
  let next = performance.now();
  for (let seq = 0; performance.now() < deadline; seq++) {
    const prompt = `s${index}-${seq}`;
    const started = performance.now();
    try {
      conn.send({ prompt });
      sent++;
      const output = await conn.receive();
      rtts.push(performance.now() - started);
      if (output?.output !== prompt) error(`session ${index}: got ${JSON.stringify(output)}`);
    } catch (reason) {
      error(`session ${index}: ${(reason as Error).message}`);
      return;
    }
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else next = performance.now(); // fell behind: no burst to catch up
  }
}

await Promise.all(conns.slice(0, active).map((conn, i) => drive(conn, i)));
say({ result: { sent, received: rtts.length, rtts, errors: errorCount, samples: errors } });

await expect("close");
closing = true;
await Promise.all(conns.map((conn) => conn.close().catch(() => {})));
say({ closed: true });
Deno.exit(0);
