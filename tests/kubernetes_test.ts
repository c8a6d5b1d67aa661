/**
 * `deploy/kubernetes.yaml`: a Deployment running `rally serve` (one process per pod, scaled by
 * replicas, so SIGTERM drains), readiness on `/health`, a termination grace that covers the
 * drain, and a Service in front. Parsed with `yaml` and checked field by field.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { App } from "../server/mod.ts";
import { DEFAULT_SHUTDOWN_GRACE_MS } from "../server/serve.ts";
import { listen, Peer, waitFor, within } from "./_realtime_helpers.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

const MANIFEST = new URL("../deploy/kubernetes.yaml", import.meta.url);

async function manifest(): Promise<{ deployment: Doc; service: Doc }> {
  const docs = parseAllDocuments(await Deno.readTextFile(MANIFEST));
  for (const doc of docs) assert.deepEqual(doc.errors, [], "the YAML parses");
  const objects = docs.map((doc) => doc.toJS() as Doc);
  const deployment = objects.find((o) => o.kind === "Deployment");
  const service = objects.find((o) => o.kind === "Service");
  assert.ok(deployment, "a Deployment");
  assert.ok(service, "a Service");
  return { deployment, service };
}

Deno.test("kubernetes.yaml runs rally serve, one process per pod, scaled by replicas", async () => {
  const { deployment } = await manifest();
  assert.equal(deployment.apiVersion, "apps/v1");
  assert.ok(deployment.spec.replicas >= 2, "more than one replica");
  const pod = deployment.spec.template.spec;
  assert.equal(pod.containers.length, 1, "one container: one rally process per pod");
  const [container] = pod.containers;
  const command: string[] = [...container.command ?? [], ...container.args ?? []];
  assert.deepEqual(command.slice(0, 2), ["rally", "serve"], "the container runs `rally serve`");
  assert.ok(!command.includes("--parallel"), "no --parallel: rally's serve() drains on SIGTERM");
  const selector = deployment.spec.selector.matchLabels;
  for (const [key, value] of Object.entries(selector)) {
    assert.equal(deployment.spec.template.metadata.labels[key], value, `pod label ${key}`);
  }
});

Deno.test("kubernetes.yaml probes readiness on /health and gives the drain time to finish", async () => {
  const { deployment } = await manifest();
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const port = container.ports.find((p: Doc) => p.name === container.readinessProbe.httpGet.port) ??
    container.ports.find((p: Doc) => p.containerPort === container.readinessProbe.httpGet.port);
  assert.ok(port, "the readiness probe names a container port");
  assert.equal(container.readinessProbe.httpGet.path, "/health");
  const listenPort = container.env?.find((e: Doc) => e.name === "PORT")?.value ??
    command(container).at(command(container).indexOf("--port") + 1);
  assert.equal(Number(listenPort), port.containerPort, "rally listens on the probed port");

  const graceMs = DEFAULT_SHUTDOWN_GRACE_MS;
  const preStopSeconds = Number(container.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
  assert.ok(
    pod.terminationGracePeriodSeconds * 1000 >= preStopSeconds * 1000 + graceMs,
    `terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds} s) covers preStop ` +
      `(${preStopSeconds} s) and shutdownGraceMs (${graceMs} ms)`,
  );
});

Deno.test("kubernetes.yaml has a Service that selects the pods and targets their port", async () => {
  const { deployment, service } = await manifest();
  assert.equal(service.apiVersion, "v1");
  const labels = deployment.spec.template.metadata.labels;
  for (const [key, value] of Object.entries(service.spec.selector)) {
    assert.equal(labels[key], value, `the Service selects pods by ${key}`);
  }
  assert.equal(service.spec.sessionAffinity ?? "None", "None", "no sticky sessions needed");
  const [container] = deployment.spec.template.spec.containers;
  for (const servicePort of service.spec.ports) {
    const target = container.ports.find((p: Doc) =>
      p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort
    );
    assert.ok(target, `Service port ${servicePort.port} targets a container port`);
  }
});

Deno.test("GET /health answers 503 once a drain begins, so readiness takes the pod out", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let calls = 0;
  const app = new App().realtime("/rt", {}, async (input) => {
    calls++;
    await gate;
    return input;
  });
  const server = listen(app, 5_000);
  const before = await fetch(`${server.http}/health`);
  assert.equal(before.status, 200);
  await before.body?.cancel();
  await using peer = await Peer.open(`${server.ws}/rt`);
  peer.send({ n: 1 });
  await waitFor(() => calls === 1, "the call to start");
  const stopped = server.shutdown(); // draining from this call on: no wait needed
  const during = await fetch(`${server.http}/health`);
  assert.equal(during.status, 503);
  await during.body?.cancel();
  release();
  assert.deepEqual(await peer.output(), { n: 1 }, "the session still drains");
  await within(stopped, "the server to stop");
});

function command(container: Doc): string[] {
  return [...container.command ?? [], ...container.args ?? []];
}
