/**
 * The App: a route table of HTTP endpoints, realtime endpoints and raw WebSocket endpoints,
 * and `app.fetch`, which serves them (under rally's `serve()`, `deno serve`, or any host that
 * calls a fetch handler).
 *
 * @module
 */
import { Hono } from "hono";
import { Codec } from "../codec.ts";
import { VERSION } from "../protocol.ts";
import { type Context, createContext, type Host, type Session } from "./context.ts";
import {
  type EndpointHandler,
  type EndpointOptions,
  type EndpointRoute,
  fail,
  handleEndpoint,
} from "./http.ts";
import {
  acceptRealtime,
  DEFAULT_MAX_PENDING_BYTES,
  type RealtimeHandler,
  type RealtimeOptions,
  type RealtimeRoute,
} from "./realtime.ts";
import type { Schema } from "./schema.ts";
import {
  acceptWebSocket,
  type WebSocketHandler,
  type WebSocketOptions,
  type WebSocketRoute,
} from "./websocket.ts";

/** Options of an {@link App}. */
export interface AppOptions {
  /** The app's name (fal's app name). Default `"rally"`. */
  name?: string;
  /** Largest message or body accepted by every endpoint that does not set its own. Default 16 MiB, at most 64 MiB. */
  maxMessageBytes?: number;
  /**
   * Called with every error a handler throws (clients see only a generic message).
   * Default: `console.error`.
   */
  onError?: (error: unknown, ctx: Context) => void;
}

/** The default of `maxMessageBytes`: 16 MiB (uvicorn's, which fal's runners use). */
export const DEFAULT_MAX_MESSAGE_BYTES: number = 16 * 1024 * 1024;
/** Deno closes a connection that sends a frame over 64 MiB, so no limit may pass it. */
const MAX_MESSAGE_BYTES_CEILING = 64 * 1024 * 1024;

type Route =
  | { kind: "endpoint"; path: string; route: EndpointRoute }
  | { kind: "realtime"; path: string; route: RealtimeRoute }
  | { kind: "websocket"; path: string; route: WebSocketRoute };

/**
 * A rally app: endpoints registered with the builder methods, served by {@link App.fetch}.
 *
 * @example
 * ```ts
 * import { App } from "@rally/rally/server";
 * import { z } from "zod";
 *
 * const Input = z.object({ prompt: z.string() });
 * const Output = z.object({ output: z.string() });
 *
 * const app = new App({ name: "echo" })
 *   .endpoint("/", { input: Input, output: Output }, (input) => ({ output: input.prompt }))
 *   .realtime("/realtime", { input: Input, output: Output, buffering: 2 }, (input) => ({
 *     output: input.prompt,
 *   }))
 *   .websocket("/echo", async (socket) => {
 *     socket.send(`echo: ${await socket.receiveText()}`);
 *   });
 *
 * export default app; // `deno serve` this module, or `rally serve` it
 * ```
 */
export class App {
  #options: AppOptions;
  #routes: Route[] = [];
  #router?: Hono;
  #sessions = new Set<Session>();
  #closing = new AbortController();
  #draining = false;
  #host: Host;

  /**
   * Make an app; add routes with the builder methods.
   *
   * @param options The app's options.
   */
  constructor(options: AppOptions = {}) {
    checkMessageBytes(options.maxMessageBytes);
    this.#options = options;
    const sessions = this.#sessions;
    this.#host = {
      codec: new Codec(),
      closing: this.#closing.signal,
      reportError: (error, ctx) => (this.#options.onError ?? logError)(error, ctx),
      track(session) {
        sessions.add(session);
        return () => sessions.delete(session);
      },
    };
  }

  /** The app's name. */
  get name(): string {
    return this.#options.name ?? "rally";
  }

  /** Open WebSocket sessions (realtime and raw). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Add an HTTP endpoint: `POST path` with a JSON or msgpack body.
   *
   * @param path The URL path.
   * @param options Input and output schemas, body cap.
   * @param handler Gets the validated input, returns the output.
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   *
   * new App().endpoint("/", { input: z.object({ prompt: z.string() }) }, (input) => ({
   *   output: input.prompt.toUpperCase(),
   * }));
   * ```
   */
  endpoint<I extends Schema | undefined = undefined, O extends Schema | undefined = undefined>(
    path: string,
    options: EndpointOptions<I, O>,
    handler: EndpointHandler<I, O>,
  ): this {
    checkMessageBytes(options.maxMessageBytes);
    return this.#add({
      kind: "endpoint",
      path,
      route: {
        input: options.input,
        output: options.output,
        maxMessageBytes: options.maxMessageBytes ?? 0,
        handler: handler as EndpointRoute["handler"],
      },
    });
  }

  /**
   * Add a realtime endpoint: a WebSocket at `path` carrying one msgpack input per frame and one
   * output per frame, in order, with the latest inputs winning when the handler falls behind.
   *
   * @param path The URL path.
   * @param options Schemas, buffering, batching, timeouts.
   * @param handler Gets each validated input (an array when `maxBatchSize` is over 1).
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   * import { z } from "zod";
   *
   * new App().realtime(
   *   "/realtime",
   *   { input: z.object({ prompt: z.string() }), buffering: 2, sessionTimeout: 60 },
   *   (input) => ({ output: input.prompt }),
   * );
   * ```
   */
  realtime<
    I extends Schema | undefined = undefined,
    O extends Schema | undefined = undefined,
    B extends number | undefined = undefined,
  >(path: string, options: RealtimeOptions<I, O, B>, handler: RealtimeHandler<I, O, B>): this {
    checkMessageBytes(options.maxMessageBytes);
    const { buffering, maxBatchSize = 1, sessionTimeout } = options;
    if (buffering !== undefined && !(buffering >= 1)) {
      throw new RangeError("buffering must be at least 1");
    }
    if (!(Number.isInteger(maxBatchSize) && maxBatchSize >= 1)) {
      throw new RangeError("maxBatchSize must be a whole number of at least 1");
    }
    if (sessionTimeout !== undefined && !(sessionTimeout > 0)) {
      throw new RangeError("sessionTimeout must be a positive number of seconds");
    }
    return this.#add({
      kind: "realtime",
      path,
      route: {
        input: options.input,
        output: options.output,
        maxMessageBytes: options.maxMessageBytes ?? 0,
        buffering: buffering ?? Infinity,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
        maxBatchSize,
        sessionTimeout: sessionTimeout ?? Infinity,
        handler: handler as RealtimeRoute["handler"],
      },
    });
  }

  /**
   * Add a raw WebSocket endpoint: the handler owns the session.
   *
   * @param path The URL path.
   * @param optionsOrHandler Frame and unread-bytes caps, or the handler.
   * @param handler The handler, when options come first.
   * @returns This app, to chain more routes.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   *
   * new App().websocket("/echo", async (socket) => {
   *   for await (const message of socket) socket.send(message);
   * });
   * ```
   */
  websocket(
    path: string,
    optionsOrHandler: WebSocketOptions | WebSocketHandler,
    handler?: WebSocketHandler,
  ): this {
    const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
    const run = typeof optionsOrHandler === "function" ? optionsOrHandler : handler;
    if (!run) throw new TypeError("websocket() needs a handler");
    checkMessageBytes(options.maxMessageBytes);
    return this.#add({
      kind: "websocket",
      path,
      route: {
        maxMessageBytes: options.maxMessageBytes ?? 0,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
        handler: run,
      },
    });
  }

  /**
   * Serve one request: the fetch handler for `Deno.serve`, `deno serve` or any other host.
   *
   * @param request The request.
   * @returns The response.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   *
   * const app = new App();
   * const response = await app.fetch(new Request("http://localhost/health"));
   * console.log(await response.json()); // { status: "ok", version: "0.1.0" }
   * ```
   */
  fetch = (request: Request): Response | Promise<Response> => {
    if (this.#draining) return fail(503, "Server is shutting down");
    this.#router ??= this.#build();
    return this.#router.fetch(request);
  };

  /**
   * Stop taking work and drain: new requests get 503; each open session finishes its handler
   * call and pending inputs for up to `graceMs`, sends their outputs, then gets `SHUTTING_DOWN`
   * (with `unprocessed`) and close 1001. `serve()` calls this on shutdown.
   *
   * @param graceMs How long sessions may take to finish.
   * @returns When every session has closed.
   * @example
   * ```ts
   * import { App } from "@rally/rally/server";
   *
   * const app = new App();
   * await app.drain(5_000);
   * ```
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    await Promise.all([...this.#sessions].map((session) => session.shutdown(graceMs)));
    this.#closing.abort();
  }

  #add(route: Route): this {
    if (!route.path.startsWith("/")) {
      throw new TypeError(`A path must start with "/": ${route.path}`);
    }
    if (this.#routes.some((other) => other.path === route.path)) {
      throw new TypeError(`A route is already registered at ${route.path}`);
    }
    this.#routes.push(route);
    this.#router = undefined;
    return this;
  }

  #build(): Hono {
    const router = new Hono();
    const host = this.#host;
    const appMax = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    router.get("/health", () => Response.json({ status: "ok", version: VERSION }));
    for (const { kind, path, route } of this.#routes) {
      const limited = { ...route, maxMessageBytes: route.maxMessageBytes || appMax };
      if (kind === "endpoint") {
        router.post(path, (c) => handleEndpoint(limited as EndpointRoute, c.req.raw, host));
        router.all(path, () => fail(405, "Method Not Allowed", { allow: "POST" }));
      } else {
        const accept = kind === "realtime"
          ? (request: Request) => acceptRealtime(limited as RealtimeRoute, request, host)
          : (request: Request) => acceptWebSocket(limited as WebSocketRoute, request, host);
        router.get(path, (c) => {
          const upgrade = c.req.header("upgrade");
          if (upgrade?.toLowerCase() !== "websocket") {
            return fail(426, `${path} is a WebSocket endpoint: connect with Upgrade: websocket`, {
              upgrade: "websocket",
            });
          }
          return accept(c.req.raw);
        });
        router.all(path, () => fail(405, "Method Not Allowed", { allow: "GET" }));
      }
    }
    router.all("/health", () => fail(405, "Method Not Allowed", { allow: "GET" }));
    router.notFound((c) => fail(404, `Path ${c.req.path} not found`));
    router.onError((error, c) => {
      host.reportError(error, createContext(c.req.raw, () => c.req.raw.signal));
      return fail(500, "Internal Server Error");
    });
    return router;
  }
}

function checkMessageBytes(value: number | undefined): void {
  if (value !== undefined && !(value > 0 && value <= MAX_MESSAGE_BYTES_CEILING)) {
    throw new RangeError(
      `maxMessageBytes must be between 1 and ${MAX_MESSAGE_BYTES_CEILING} (64 MiB)`,
    );
  }
}

function logError(error: unknown, ctx: Context): void {
  console.error(`rally: handler failed (request ${ctx.requestId}):`, error);
}
