/**
 * The route table and the Hono router built from it: `GET /health`, `GET /openapi.json`, and
 * each route with its method, its 405 and 426 answers, and the gate that holds requests until
 * the App is set up and counts them for `maxConcurrency`, the drain and `keepAlive`.
 *
 * @module
 */
import { Hono } from "hono";
import { createContext, type Host } from "./context.ts";
import { homeRedirect } from "./docs/playground.ts";
import { handleGet } from "./get.ts";
import { handleEndpoint } from "./http.ts";
import { fail, methodNotAllowed, OWN_PATHS } from "./response.ts";
import type { RealtimeRoute, Route, WebRtcRoute } from "./routes.ts";
import { acceptRealtime } from "./realtime.ts";
import { handleStream } from "./stream.ts";
import { refuseHandshake } from "./upgrade.ts";
import { acceptWebSocket } from "./websocket.ts";
import { acceptWebRtc } from "./webrtc/signaling.ts";

/** What the router needs from the run of its App. */
export interface Gate {
  /** What routes need from their App. */
  readonly host: Host;
  /** The App's `maxMessageBytes`, for routes that set none. */
  readonly maxMessageBytes: number;
  /** The answer to `GET /health`. */
  health(): Response;
  /** The OpenAPI document. */
  openapi(): unknown;
  /** The playground's path, when it is on. */
  readonly docs?: string;
  /**
   * Wait until the App is set up.
   *
   * @returns Nothing when it can take work, else the 503 to answer.
   */
  admit(): Response | undefined | Promise<Response | undefined>;
  /**
   * Wait until the App is set up, then check `maxSessions` (a WebSocket upgrade's last check).
   *
   * @returns Nothing when the session may open, else the 503 to answer.
   */
  admitSession(): Response | undefined | Promise<Response | undefined>;
  /**
   * Put the App's middlewares (logs, metrics, CORS, `Origin` and auth checks) and rally's own
   * routes on the router, before its routes.
   *
   * @param router The new router.
   * @returns Whether a check (CORS, `Origin`, auth) was put on it.
   */
  guard(router: Hono): boolean;
  /**
   * An endpoint's answer for requests that skip the router: logged and measured as through it.
   *
   * @param answer Answers a request.
   * @returns The answer, observed when logs or metrics are on.
   */
  observed(
    answer: (request: Request) => Promise<Response>,
  ): (request: Request) => Promise<Response>;
  /**
   * Run an HTTP or SSE request once admitted and given a `maxConcurrency` slot.
   *
   * @param run Answers the request; calls `done` once its work is over.
   * @returns Its response, or a 503.
   */
  work(run: (done: () => void) => Promise<Response>): Promise<Response>;
}

/** An App's routes behind one `fetch`. */
export interface Router {
  /**
   * Answer a request.
   *
   * @param request The request.
   * @returns The response.
   */
  fetch(request: Request): Response | Promise<Response>;
}

/** How the 405 of a WebSocket route names it, and the client function that connects to it. */
const SOCKET_KINDS = {
  realtime: "realtime",
  websocket: "raw WebSocket",
  webrtc: "WebRTC signaling",
};
const SOCKET_CLIENTS = {
  realtime: (path: string) => `realtime(url, { path: "${path}" })`,
  websocket: (path: string) => `wsConnect(url, { path: "${path}" })`,
  webrtc: (path: string) => `realtime(url, { transport: "webrtc", path: "${path}" })`,
};

/** A path with nothing of Hono's patterns in it (`:param`, `*`, `{regex}`, `?`). */
const FIXED_PATH = /^[^:*{}?]*$/;

/**
 * Build the router of a route table.
 *
 * @param routes The routes.
 * @param gate The run of the App.
 * @returns The router.
 */
export function buildRouter(routes: readonly Route[], gate: Gate): Router {
  const router = new Hono();
  const host = gate.host;
  const plain = !gate.guard(router);
  /** Endpoints at fixed paths, answered without Hono's dispatch when no check runs. */
  const direct = new Map<string, (request: Request) => Promise<Response>>();
  router.get("/health", () => gate.health());
  router.get("/openapi.json", () => Response.json(gate.openapi()));
  // A browser opening an App with no page at `/` lands on the playground.
  if (gate.docs && !routes.some((entry) => entry.path === "/" && entry.kind === "get")) {
    router.get("/", homeRedirect(gate.docs));
  }
  // Endpoints at fixed paths first: a POST to one is never taken by a pattern route, with or
  // without the shortcut below.
  const fixed = (entry: Route) => entry.kind === "endpoint" && FIXED_PATH.test(entry.path);
  for (const entry of [...routes.filter(fixed), ...routes.filter((entry) => !fixed(entry))]) {
    const path = entry.path;
    if (entry.kind === "get") {
      // Hono answers HEAD from the GET handler, without the body.
      const route = entry.route;
      router.get(path, (c) => gate.work((done) => handleGet(route, c.req.raw, host).finally(done)));
      router.all(path, methodNotAllowed("GET"));
      continue;
    }
    const maxMessageBytes = entry.route.maxMessageBytes || gate.maxMessageBytes;
    if (entry.kind === "endpoint") {
      const route = { ...entry.route, maxMessageBytes };
      const answer = (request: Request) =>
        gate.work((done) => handleEndpoint(route, request, host, done));
      router.post(path, (c) => answer(c.req.raw));
      if (plain && FIXED_PATH.test(path)) direct.set(path, gate.observed(answer));
    } else if (entry.kind === "stream") {
      const route = { ...entry.route, maxMessageBytes };
      router.post(path, (c) => gate.work((done) => handleStream(route, c, host, done)));
    } else {
      const accept = entry.kind === "realtime"
        ? (request: Request) => acceptRealtime({ ...entry.route, maxMessageBytes }, request, host)
        : entry.kind === "webrtc"
        ? acceptWith(
          entry.route,
          entry.route.endpoint === undefined
            ? undefined
            : realtimeAt(entry.route.endpoint, routes, gate),
          host,
        )
        : (request: Request) => acceptWebSocket({ ...entry.route, maxMessageBytes }, request, host);
      router.get(path, (c): Response | Promise<Response> => {
        // The same test as the Origin and auth checks' (an exact `websocket`), so nothing upgrades
        // that they let through as plain HTTP.
        if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
          return fail(426, `${path} is a WebSocket endpoint: connect with Upgrade: websocket`, {
            upgrade: "websocket",
          });
        }
        const malformed = refuseHandshake(c.req.raw);
        if (malformed) return malformed;
        const refused = gate.admitSession();
        if (refused === undefined) return accept(c.req.raw);
        return Promise.resolve(refused).then((response): Response => response ?? accept(c.req.raw));
      });
    }
    if (entry.kind === "endpoint" || entry.kind === "stream") {
      router.all(path, methodNotAllowed("POST"));
    } else {
      // As helpful as the GET's 426: say what the path is and how to reach it.
      const detail = `${path} is a ${SOCKET_KINDS[entry.kind]} endpoint (a WebSocket): ` +
        `connect with GET and Upgrade: websocket, e.g. ${SOCKET_CLIENTS[entry.kind](path)}`;
      router.all(path, () => fail(405, detail, { allow: "GET" }));
    }
  }
  for (const path of OWN_PATHS) {
    router.all(path, methodNotAllowed("GET"));
  }
  router.notFound((c) => fail(404, `Path ${c.req.path} not found`));
  router.onError((error, c) => {
    host.reportError(error, createContext(c.req.raw, () => c.req.raw.signal));
    return fail(500, "Internal Server Error");
  });
  return {
    fetch(request: Request): Response | Promise<Response> {
      // Hono's dispatch measured about 1 µs of CPU a request: an endpoint's POST goes straight
      // to its handler.
      if (direct.size > 0 && request.method === "POST") {
        const answer = direct.get(pathOf(request.url));
        if (answer) return answer(request);
      }
      return router.fetch(request);
    },
  };
}

/** The path of a request's URL, as sent (percent-encoded). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** The realtime route a WebRTC endpoint serves on its DataChannel, its byte cap resolved. */
function realtimeAt(path: string, routes: readonly Route[], gate: Gate): RealtimeRoute {
  const served = routes.find((entry) => entry.path === path);
  if (served?.kind !== "realtime") {
    throw new TypeError(`A WebRTC endpoint's endpoint must be a realtime route: ${path}`);
  }
  return {
    ...served.route,
    maxMessageBytes: served.route.maxMessageBytes || gate.maxMessageBytes,
  };
}

function acceptWith(
  route: WebRtcRoute,
  session: RealtimeRoute | undefined,
  host: Host,
): (request: Request) => Response {
  return (request) => acceptWebRtc(route, session, request, host);
}
