/**
 * Newline-delimited text over a byte stream: the control channel between the bench and
 * its server processes (stdin/stdout of the child).
 *
 * @module
 */

/**
 * Yield each line of a byte stream, without its trailing newline.
 *
 * @param stream UTF-8 bytes.
 * @returns The lines, in order; a last line without a newline is yielded too.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    for (let end = rest.indexOf("\n"); end >= 0; end = rest.indexOf("\n")) {
      yield rest.slice(0, end);
      rest = rest.slice(end + 1);
    }
  }
  if (rest !== "") yield rest;
}
