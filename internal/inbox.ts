/**
 * A queue of received messages with waiting readers, shared by the server's raw WebSocket
 * sessions and the client's connections (internal: not exported from the package).
 *
 * @module
 */

type Entry<T> = { value: T } | { error: unknown };

/** Messages in arrival order; readers wait for the next one; errors take their place in line. */
export class Inbox<T> {
  #entries: Entry<T>[] = [];
  #readers: { resolve: (value: T | undefined) => void; reject: (error: unknown) => void }[] = [];
  #ended = false;
  #endError: unknown;

  /** Messages waiting for a reader. */
  get size(): number {
    return this.#entries.length;
  }

  /** Whether {@link end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Add a message, or hand it to the first waiting reader.
   *
   * @param value The message.
   */
  push(value: T): void {
    this.#put({ value });
  }

  /**
   * Add an error in line: the reader that gets to it rejects with it.
   *
   * @param error The error.
   */
  pushError(error: unknown): void {
    this.#put({ error });
  }

  /**
   * End the inbox: once the queued entries are read, readers get `undefined`, or reject with
   * `error` when one is given. Later calls change nothing.
   *
   * @param error What readers past the end reject with.
   */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endError = error;
    for (const reader of this.#readers.splice(0)) {
      if (error === undefined) reader.resolve(undefined);
      else reader.reject(error);
    }
  }

  /**
   * The next message.
   *
   * @returns The message, or `undefined` past the end.
   */
  next(): Promise<T | undefined> {
    const entry = this.#entries.shift();
    if (entry) {
      return "value" in entry ? Promise.resolve(entry.value) : Promise.reject(entry.error);
    }
    if (this.#ended) {
      return this.#endError === undefined
        ? Promise.resolve(undefined)
        : Promise.reject(this.#endError);
    }
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }

  #put(entry: Entry<T>): void {
    if (this.#ended) return;
    const reader = this.#readers.shift();
    if (!reader) this.#entries.push(entry);
    else if ("value" in entry) reader.resolve(entry.value);
    else reader.reject(entry.error);
  }
}
