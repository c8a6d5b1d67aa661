import assert from "node:assert/strict";
import { Inbox } from "../internal/inbox.ts";

Deno.test("inbox hands out queued messages in arrival order", async () => {
  const inbox = new Inbox<number>();
  inbox.push(1);
  inbox.push(2);
  inbox.push(3);
  assert.equal(inbox.size, 3);
  assert.deepEqual([await inbox.next(), await inbox.next(), await inbox.next()], [1, 2, 3]);
  assert.equal(inbox.size, 0);
});

Deno.test("inbox readers wait for the next message and get them in the order they asked", async () => {
  const inbox = new Inbox<string>();
  const first = inbox.next();
  const second = inbox.next();
  inbox.push("a");
  inbox.push("b");
  assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
  assert.equal(inbox.size, 0);
});

Deno.test("inbox errors take their place in line", async () => {
  const inbox = new Inbox<string>();
  const boom = new Error("boom");
  inbox.push("a");
  inbox.pushError(boom);
  inbox.push("b");
  assert.equal(await inbox.next(), "a");
  await assert.rejects(inbox.next(), (error) => error === boom);
  assert.equal(await inbox.next(), "b");
});

Deno.test("inbox rejects a waiting reader with a pushed error", async () => {
  const inbox = new Inbox<string>();
  const waiting = inbox.next();
  inbox.pushError(new RangeError("late"));
  await assert.rejects(waiting, RangeError);
  assert.equal(inbox.size, 0);
});

Deno.test("inbox end lets queued messages be read, then gives undefined", async () => {
  const inbox = new Inbox<number>();
  inbox.push(7);
  inbox.end();
  assert.equal(inbox.ended, true);
  assert.equal(await inbox.next(), 7);
  assert.equal(await inbox.next(), undefined);
  assert.equal(await inbox.next(), undefined);
});

Deno.test("inbox end resolves waiting readers with undefined", async () => {
  const inbox = new Inbox<number>();
  const waiting = [inbox.next(), inbox.next()];
  assert.equal(inbox.ended, false);
  inbox.end();
  assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
});

Deno.test("inbox end with an error rejects waiting and later readers after the queue", async () => {
  const closed = new Error("closed");
  const waiting = new Inbox<number>();
  const reader = waiting.next();
  waiting.end(closed);
  await assert.rejects(reader, (error) => error === closed);

  const queued = new Inbox<number>();
  queued.push(1);
  queued.end(closed);
  assert.equal(await queued.next(), 1);
  await assert.rejects(queued.next(), (error) => error === closed);
  await assert.rejects(queued.next(), (error) => error === closed);
});

Deno.test("inbox ignores messages, errors and a second end after it has ended", async () => {
  const inbox = new Inbox<number>();
  inbox.end();
  inbox.push(1);
  inbox.pushError(new Error("ignored"));
  inbox.end(new Error("ignored too"));
  assert.equal(inbox.size, 0);
  assert.equal(await inbox.next(), undefined);
});

Deno.test("inbox keeps falsy messages as messages", async () => {
  const inbox = new Inbox<number | string | null>();
  inbox.push(0);
  inbox.push("");
  inbox.push(null);
  assert.deepEqual([await inbox.next(), await inbox.next(), await inbox.next()], [0, "", null]);
});
