/**
 * An App module for the CLI tests that default-exports the App **class** (the CLI makes the
 * instance). `KEEP_ALIVE` sets its keepAlive; `FAIL_SETUP` makes its setup throw; it prints
 * `rally-test: setup` and `rally-test: teardown` from its hooks.
 *
 * @module
 */
import { App, type WebSocketSession } from "../server/mod.ts";
import { z } from "zod";

const Input = z.object({ prompt: z.string() });
type Input = z.infer<typeof Input>;

/** Counts and streams the words of a prompt. */
export default class WordsApp extends App {
  override keepAlive: number | undefined = Number(Deno.env.get("KEEP_ALIVE")) || undefined;

  override async setup(): Promise<void> {
    await Promise.resolve();
    if (Deno.env.get("FAIL_SETUP")) throw new Error("the model would not load");
    console.log("rally-test: setup");
  }

  override teardown(): void {
    console.log("rally-test: teardown");
  }

  @App.endpoint("/", { input: Input })
  count(input: Input): { words: number } {
    return { words: input.prompt.split(" ").length };
  }

  @App.realtime("/realtime", { input: Input })
  first(input: Input): { word: string } {
    return { word: input.prompt.split(" ")[0] };
  }

  @App.stream("/words", { input: Input })
  async *words(input: Input): AsyncGenerator<{ word: string }> {
    for (const word of input.prompt.split(" ")) yield { word };
  }

  @App.websocket("/echo")
  async echo(socket: WebSocketSession): Promise<void> {
    const text = await socket.receiveText();
    socket.send(text);
    socket.send(new Uint8Array([1, 2, 3]));
  }
}
