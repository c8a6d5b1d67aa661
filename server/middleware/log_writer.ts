/**
 * Buffered log lines: the default log sink collects JSON lines and writes them in one write
 * every `flushMs` (100 ms) or once `maxBytes` (64 KiB) are waiting, instead of one synchronous
 * console write per request (which measured about half of rally's extra time per request over a
 * bare `Deno.serve` handler). A line may be given as a function that makes it: it is made at the
 * flush, off the request's path. Nothing is lost at a graceful stop: `serve()` flushes once the
 * server has drained, and the process flushes on exit (`unload`, `Deno.exit()`, `deno serve`'s
 * SIGINT/SIGTERM) and before an uncaught error ends it. Only a process killed outright
 * (SIGKILL) loses the lines of its last `flushMs`.
 *
 * @module
 */

/** Options of a {@link LineWriter}. */
export interface LineWriterOptions {
  /** Longest a line waits before it is written, in ms. Default 100. */
  flushMs?: number;
  /**
   * Write as soon as about this many bytes wait (UTF-16 code units; a line not made yet counts
   * as 256). Default 64 KiB.
   */
  maxBytes?: number;
}

/**
 * Collects text lines and hands them to `write` in batches, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineWriter } from "./log_writer.ts";
 *
 * const written: string[] = [];
 * const lines = new LineWriter((bytes) => written.push(new TextDecoder().decode(bytes)));
 * lines.write('{"n":1}');
 * lines.write('{"n":2}');
 * assert.deepEqual(written, []); // waiting for the next flush
 * lines.flush();
 * assert.deepEqual(written, ['{"n":1}\n{"n":2}\n']);
 * ```
 */
export class LineWriter {
  #write: (bytes: Uint8Array) => void;
  #flushMs: number;
  #maxBytes: number;
  #pending: (string | (() => string))[] = [];
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #encoder = new TextEncoder();
  /** Reused for every batch: no buffer is allocated per flush. */
  #buffer = new Uint8Array(0);

  /**
   * Make a writer.
   *
   * @param write Writes one batch of lines, each ending with `\n` (the bytes are reused once
   *   it returns); what it throws loses the batch, never the caller's work.
   * @param options When to write.
   */
  constructor(write: (bytes: Uint8Array) => void, options: LineWriterOptions = {}) {
    this.#write = write;
    this.#flushMs = options.flushMs ?? 100;
    this.#maxBytes = options.maxBytes ?? 64 * 1024;
  }

  /** Lines waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Add one line (without its `\n`): written at the next flush, at once when enough waits.
   *
   * @param line The line, or a function that makes it at the flush (what it throws loses that
   *   line only).
   */
  write(line: string | (() => string)): void {
    this.#pending.push(line);
    this.#size += typeof line === "string" ? line.length + 1 : 256;
    if (this.#size >= this.#maxBytes) this.flush();
    else if (this.#timer === undefined) {
      const timer = this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      // A waiting line never keeps the process alive: the exit flushes it.
      Deno.unrefTimer(timer);
    }
  }

  /** Write every waiting line now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#size = 0;
    let buffer = this.#buffer;
    let used = 0;
    for (const line of lines) {
      let text: string;
      try {
        text = typeof line === "string" ? line : line();
      } catch {
        continue; // a line that cannot be made is lost alone
      }
      const most = text.length * 3 + 1; // UTF-8 bytes of a UTF-16 code unit: at most 3
      if (buffer.length - used < most) {
        this.#send(buffer.subarray(0, used));
        used = 0;
        if (buffer.length < most) buffer = this.#buffer = new Uint8Array(most + this.#maxBytes);
      }
      used += this.#encoder.encodeInto(text, buffer.subarray(used)).written;
      buffer[used++] = 0x0a; // "\n"
    }
    this.#send(buffer.subarray(0, used));
  }

  #send(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    try {
      this.#write(bytes);
    } catch {
      // A failing sink loses the lines, never the request (as a throwing log sink does).
    }
  }
}

let stdoutLines: LineWriter | undefined;

/**
 * The process's buffered stdout, made on first use; it flushes on exit and before an uncaught
 * error ends the process.
 *
 * @returns The writer.
 */
export function stdoutWriter(): LineWriter {
  if (stdoutLines) return stdoutLines;
  const lines = stdoutLines = new LineWriter(writeStdout);
  const flush = () => lines.flush();
  // Listeners only: an uncaught error still ends the process as it would have.
  globalThis.addEventListener("unload", flush);
  globalThis.addEventListener("error", flush);
  globalThis.addEventListener("unhandledrejection", flush);
  return lines;
}

/** Write every line waiting for stdout now (`serve()` calls it once stopped). */
export function flushLogs(): void {
  stdoutLines?.flush();
}

function writeStdout(bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}
