/**
 * The App of the "as users run it" variants, started with `rally serve` (see
 * `harness/served.ts`): `POST /` takes `{ prompt }` and answers `{ output }`, zod-validated,
 * as `examples/realtime_app.ts`'s `/` does. A copy of its own, so that the bench does not
 * change when the example does (a `keepAlive` there would stop the server mid-run).
 *
 * @module
 */
import { z } from "zod";
import { App } from "../../server/mod.ts";

const Input = z.object({ prompt: z.string() });
const Output = z.object({ output: z.string() });

export default new App({ name: "bench-served" })
  .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }));
