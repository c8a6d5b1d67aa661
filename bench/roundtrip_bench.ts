/**
 * `deno bench -A bench/`: the standard view of the variants, one group per scenario with
 * `rally-realtime` as the baseline. Each call completes real round trips against a server in
 * its own process (started here at load, killed at unload). The measurement of record, with
 * percentiles, server CPU and memory, is `deno task bench:report`.
 *
 * @module
 */
import type { Driver } from "./harness/drivers.ts";
import { pinClient } from "./harness/process.ts";
import { BASELINE, startVariant, VARIANTS } from "./harness/variants.ts";

const serverCpu = await pinClient();
const servers = await Promise.all(VARIANTS.map((v) => startVariant(v, { cpu: serverCpu })));
globalThis.addEventListener("unload", () => servers.forEach((server) => server.kill()));

const small: Driver[] = await Promise.all(VARIANTS.map((v, i) => v.small(servers[i])));
const image: (Driver | undefined)[] = await Promise.all(
  VARIANTS.map((v, i) => v.image?.(servers[i])),
);

for (const [i, variant] of VARIANTS.entries()) {
  const baseline = variant.name === BASELINE;
  Deno.bench({
    name: variant.name,
    group: "sequential round trip",
    baseline,
    async fn() {
      await small[i].roundTrip();
    },
  });
  for (const depth of [16, 64]) {
    Deno.bench({
      name: variant.name,
      group: `burst of ${depth} in flight (HTTP: concurrent requests)`,
      baseline,
      async fn() {
        await small[i].pipeline(depth, depth, Infinity);
      },
    });
  }
}
for (const [i, variant] of VARIANTS.entries()) {
  const driver = image[i];
  if (!driver) continue;
  Deno.bench({
    name: variant.name === "ws-floor" ? "ws-floor (raw binary frame)" : variant.name,
    group: "100 KB payload each way",
    baseline: variant.name === BASELINE,
    async fn() {
      await driver.roundTrip();
    },
  });
}
