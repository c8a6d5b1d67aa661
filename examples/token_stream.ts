/**
 * An LLM-style token stream, two ways: `POST /complete` streams tokens as server-sent events, and
 * the realtime endpoint `/realtime` (mode `server_streaming`) sends the same tokens as msgpack
 * frames on a WebSocket, then ends the session. The "model" is a stand-in that answers with the
 * prompt's words in reverse order, one token every {@link TOKEN_MS} ms; put your model's token
 * iterator in its place.
 *
 * Serve it with `deno run -A cli.ts serve examples/token_stream.ts`, then call it with
 * `deno run -A examples/token_client.ts`.
 *
 * @module
 */
import { App } from "../server/mod.ts";
import { z } from "zod";

/** A completion request: the prompt, and how many tokens to answer with at most. */
export const Prompt = z.object({
  prompt: z.string().min(1),
  maxTokens: z.number().int().min(1).max(256).default(64),
});
/** One token of the answer, numbered from 0. */
export const Token = z.object({ index: z.number().int(), token: z.string() });

/** The time the stand-in model takes per token, in milliseconds. */
export const TOKEN_MS = 10;

/**
 * The stand-in model: the prompt's words in reverse order, one token (a word and the space after
 * it) at a time, until `maxTokens` or the caller goes away.
 *
 * @param input The request.
 * @param signal Aborts when the client disconnects or the server stops.
 * @returns The tokens, as they are "generated".
 */
export async function* complete(
  input: z.infer<typeof Prompt>,
  signal: AbortSignal,
): AsyncGenerator<z.infer<typeof Token>> {
  const words = input.prompt.trim().split(/\s+/).reverse();
  const count = Math.min(words.length, input.maxTokens);
  for (let index = 0; index < count && !signal.aborted; index++) {
    await new Promise((resolve) => setTimeout(resolve, TOKEN_MS)); // the model's work
    yield { index, token: index < count - 1 ? `${words[index]} ` : words[index] };
  }
}

export default new App({ name: "token-stream" })
  .stream(
    "/complete",
    { input: Prompt, output: Token },
    (input, ctx) => complete(input, ctx.signal),
  )
  .realtime(
    "/realtime",
    { input: Prompt, output: Token, mode: "server_streaming" },
    (input, ctx) => complete(input, ctx.signal),
  );
