/**
 * What the deploy tests share: nginx found on the machine, `deploy/nginx.conf` made runnable in a
 * scratch prefix, nginx and `rally serve` instances as child processes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Child, spawnDeno } from "../_helpers.ts";
import { delay, within } from "../_realtime_helpers.ts";

/** Whether this is CI (a missing nginx fails instead of skipping). */
export const CI: boolean = Deno.env.get("CI") === "true";
/** The nginx binary, if installed. */
export const NGINX: string | undefined = findNginx();
const CONF = new URL("../../deploy/nginx.conf", import.meta.url);

function findNginx(): string | undefined {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"]) {
    try {
      const path = `${dir}/nginx`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A rally instance: `rally serve tests/fixtures/worker_app.ts` with `RALLY_INSTANCE=name`. */
export interface Instance {
  name: string;
  port: number;
  child: Child;
}

/** Start a rally instance. */
export async function startInstance(name: string): Promise<Instance> {
  const child = spawnDeno([
    "run",
    "-A",
    "cli.ts",
    "serve",
    "tests/fixtures/worker_app.ts",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
  ], { RALLY_INSTANCE: name });
  try {
    const match = await child.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)\//, 30_000);
    return { name, port: Number(match[1]), child };
  } catch (error) {
    await child.stop("SIGKILL");
    throw error;
  }
}

/**
 * `deploy/nginx.conf` made runnable in a scratch prefix: the upstream servers and the listen
 * address replaced, and the pid, log and temp paths put under `dir`.
 */
export async function generateConf(dir: string, listenPort: number, upstreams: number[]) {
  let conf = await Deno.readTextFile(CONF);
  const servers = [...conf.matchAll(/^(\s*)server 127\.0\.0\.1:\d+([^;]*);$/gm)];
  assert.equal(servers.length, 2, "deploy/nginx.conf lists two upstream servers");
  let i = 0;
  conf = conf.replace(
    /^(\s*)server 127\.0\.0\.1:\d+([^;]*);$/gm,
    (_, indent, rest) => `${indent}server 127.0.0.1:${upstreams[i++]}${rest};`,
  );
  assert.match(conf, /^\s*listen 8080;$/m, "deploy/nginx.conf listens on 8080");
  conf = conf.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${listenPort};`);
  assert.match(conf, /^http \{$/m);
  conf = conf.replace(
    /^http \{$/m,
    [
      "http {",
      `  access_log ${dir}/access.log;`,
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) =>
        `  ${kind}_temp_path ${dir}/${kind}_temp;`
      ),
    ].join("\n"),
  );
  const main = [`daemon off;`, `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log info;`];
  await Deno.writeTextFile(`${dir}/nginx.conf`, `${main.join("\n")}\n${conf}`);
  return `${dir}/nginx.conf`;
}

/** nginx as a child process in the foreground. */
export async function startNginx(dir: string, conf: string, port: number) {
  const args = ["-e", `${dir}/error.log`, "-p", dir, "-c", conf];
  const check = await new Deno.Command(NGINX!, {
    args: ["-t", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.ok(
    check.success,
    `nginx -t refused the generated conf:\n${new TextDecoder().decode(check.stderr)}`,
  );
  const process = new Deno.Command(NGINX!, { args, stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  const log = async () => await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0;; i++) {
      try {
        const response = await fetch(`${url}/health`);
        await response.body?.cancel();
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (i >= 100) throw new Error(`nginx did not answer on ${url}\n${await log()}`);
      await delay(100);
    }
  } catch (error) {
    process.kill("SIGKILL");
    await process.status;
    throw error;
  }
  return {
    url,
    log,
    async stop() {
      try {
        process.kill("SIGQUIT"); // graceful
      } catch {
        // exited already
      }
      await within(process.status, "nginx to exit", 15_000).catch(async (error) => {
        process.kill("SIGKILL");
        await process.status;
        throw error;
      });
    },
  };
}
