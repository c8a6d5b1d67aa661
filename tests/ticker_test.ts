/**
 * The shared coarse ticker behind heartbeats and first-message deadlines: a member that joins
 * during a tick waits for the next one, one that leaves is never called again, and the interval
 * stops with its last member (the op sanitizer fails a test that leaves it running).
 */
import assert from "node:assert/strict";
import { deadline, Ticker } from "../internal/ticker.ts";

Deno.test("a member that joins during a tick is first called on the next one", async () => {
  const ticker = new Ticker(5);
  const calls: string[] = [];
  let ticks = 0;
  const late = () => calls.push("late");
  const early = () => {
    calls.push(`early ${++ticks}`);
    if (ticks === 1) ticker.add(late);
  };
  await new Promise<void>((resolve) => {
    const done = () => {
      if (ticks < 3) return;
      ticker.delete(early);
      ticker.delete(late);
      ticker.delete(done);
      resolve();
    };
    ticker.add(early);
    ticker.add(done);
  });
  assert.deepEqual(calls, ["early 1", "early 2", "late", "early 3"]);
});

Deno.test("a member that leaves during a tick is not called in it", async () => {
  const ticker = new Ticker(5);
  const calls: string[] = [];
  const second = () => calls.push("second");
  await new Promise<void>((resolve) => {
    const first = () => {
      calls.push("first");
      ticker.delete(first);
      ticker.delete(second);
      resolve();
    };
    ticker.add(first);
    ticker.add(second);
  });
  assert.deepEqual(calls, ["first"]);
});

Deno.test("deadlines fire in order of their time, never before it; cancelling one that fired is harmless", async () => {
  const started = performance.now();
  const fired: [number, number][] = [];
  let cancelledFired = false;
  const cancel = deadline(20, () => cancelledFired = true);
  await Promise.all([40, 80].map((ms) =>
    new Promise<void>((resolve) =>
      deadline(ms, () => {
        fired.push([ms, performance.now() - started]);
        resolve();
      })
    )
  ));
  cancel();
  assert.equal(cancelledFired, true, "a deadline that has fired is cancelled harmlessly");
  assert.deepEqual(fired.map(([ms]) => ms), [40, 80]);
  for (const [ms, elapsed] of fired) assert.ok(elapsed >= ms, `${ms} ms fired after ${elapsed}`);
});
