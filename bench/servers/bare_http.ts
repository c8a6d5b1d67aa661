/**
 * The HTTP floor as users run a bare server: `deno run -A bench/servers/bare_http.ts`, a
 * `Deno.serve` handler answering a JSON POST `{ prompt }` with `{ output }`, announcing its
 * address with `Deno.serve`'s own line. No control channel: the bench reads its CPU time from
 * `/proc` (see `harness/served.ts`), as for `rally serve`.
 *
 * @module
 */
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) }, async (request) => {
  const { prompt } = await request.json() as { prompt: string };
  return Response.json({ output: prompt });
});
