/**
 * The OpenAPI 3.1 document of an App (`GET /openapi.json`): HTTP and SSE routes with the JSON
 * Schemas of their inputs and outputs, taken from schemas that implement the Standard JSON
 * Schema interface (`schema["~standard"].jsonSchema`, as zod 4 does) and left out for those that
 * do not; each WebSocket route's path item carries `x-fal-protocol` (PROTOCOL.md §3).
 *
 * @module
 */
import { VERSION } from "../protocol.ts";
import type { RealtimeMode } from "./realtime.ts";
import type { Route } from "./routes.ts";
import type { Schema } from "./schema.ts";

/**
 * A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect).
 *
 * @example
 * ```ts
 * import { App, type JsonSchema } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const app = new App().endpoint("/", { input: z.object({ prompt: z.string() }) }, (input) => input);
 * const post = app.openapi().paths["/"].post as {
 *   requestBody: { content: { "application/json": { schema: JsonSchema } } };
 * };
 * const schema = post.requestBody.content["application/json"].schema;
 * assert.deepEqual(schema.required, ["prompt"]);
 * ```
 */
export type JsonSchema = Record<string, unknown>;

/**
 * An OpenAPI 3.1 document, as rally writes it.
 *
 * @example
 * ```ts
 * import { App, type OpenApiDocument } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const app = new App({ name: "echo" }).endpoint("/", {}, (input) => input);
 * const document: OpenApiDocument = app.openapi();
 * assert.equal(document.openapi, "3.1.0");
 * assert.equal(document.info.title, "echo");
 * ```
 */
export interface OpenApiDocument {
  /** The OpenAPI version: `"3.1.0"`. */
  openapi: "3.1.0";
  /** The app's name as title, rally's version. */
  info: { title: string; version: string };
  /** One path item per route, and `/health`. */
  paths: Record<string, Record<string, unknown>>;
  /** Shared schemas (FastAPI's validation error). */
  components: { schemas: Record<string, JsonSchema> };
}

/**
 * What `x-fal-protocol` says of a WebSocket route.
 *
 * @example
 * ```ts
 * import { App, type FalProtocol } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * const app = new App().realtime("/realtime", { buffering: 2 }, (input) => input);
 * const item = app.openapi().paths["/realtime"] as { "x-fal-protocol": FalProtocol };
 * assert.equal(item["x-fal-protocol"].type, "realtime");
 * assert.equal(item["x-fal-protocol"].config?.buffering, 2);
 * ```
 */
export interface FalProtocol {
  /** `"realtime"` for realtime endpoints, `"websocket"` for raw ones, `"webrtc"` for signaling. */
  type: "realtime" | "websocket" | "webrtc";
  /** The route's operation id. */
  operationId: string;
  /** A realtime route's session settings (`null`: unbounded, no timeout). */
  config?: { buffering: number | null; sessionTimeout: number | null; maxBatchSize: number };
  /** A realtime route's frame encoding. */
  contentType?: "application/msgpack";
  /** A realtime route's streaming mode. */
  realtimeMode?: RealtimeMode;
  /** A WebRTC route's realtime route, which serves its DataChannel. */
  endpoint?: string;
}

/** The Standard JSON Schema converter that some schema libraries add to `~standard`. */
interface JsonSchemaConverter {
  input(options: { target: string; libraryOptions?: Record<string, unknown> }): JsonSchema;
  output(options: { target: string; libraryOptions?: Record<string, unknown> }): JsonSchema;
}

const VALIDATION_ERROR = { $ref: "#/components/schemas/HTTPValidationError" };

/**
 * Write the OpenAPI document of a route table.
 *
 * @param title The app's name.
 * @param routes Its routes.
 * @returns The document.
 */
export function openApiDocument(title: string, routes: readonly Route[]): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {
    "/health": {
      get: {
        operationId: "health",
        summary: "Readiness: 200 once setup has finished, 503 before and while shutting down",
        responses: {
          "200": { description: "Ready", content: json(HEALTH) },
          "503": { description: "Starting, failed or shutting down", content: json(DETAIL) },
        },
      },
    },
  };
  const ids = new Set<string>();
  for (const { kind, path, route } of routes) {
    if (kind === "get") continue; // a front end (pages, scripts), not part of the API
    const operationId = uniqueId(path, ids);
    if (kind === "endpoint" || kind === "stream") {
      const output = jsonSchema(route.output, "output", `POST ${path}: output`);
      paths[path] = {
        post: {
          operationId,
          requestBody: {
            required: route.input !== undefined,
            content: bodies(route.input, "input", `POST ${path}: input`),
          },
          responses: {
            "200": kind === "endpoint"
              ? { description: "The output", content: bodies(route.output, "output") }
              : {
                description: "One `data: <json>` event per output; `event: error` on failure",
                content: {
                  "text/event-stream": {
                    schema: { type: "string" },
                    ...(output && { "x-item-schema": output }),
                  },
                },
              },
            "422": { description: "Validation error", content: json(VALIDATION_ERROR) },
          },
        },
      };
    } else {
      const realtime = kind === "realtime";
      const protocol: FalProtocol = realtime
        ? {
          type: "realtime",
          operationId,
          config: {
            buffering: finite(route.buffering),
            sessionTimeout: finite(route.sessionTimeout),
            maxBatchSize: route.maxBatchSize,
          },
          contentType: "application/msgpack",
          realtimeMode: route.mode,
        }
        : kind === "webrtc"
        ? { type: "webrtc", operationId, endpoint: route.endpoint }
        : { type: "websocket", operationId };
      paths[path] = {
        "x-fal-protocol": protocol,
        get: {
          operationId,
          summary: realtime
            ? "Realtime endpoint: one msgpack input per frame in, one output per frame out"
            : kind === "webrtc"
            ? "WebRTC signaling (msgpack frames); realtime over the DataChannel"
            : "Raw WebSocket endpoint",
          ...(realtime && {
            "x-rally-messages": messages(route.input, route.output, `GET ${path}`),
          }),
          responses: { "101": { description: "Switching Protocols (WebSocket upgrade)" } },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title, version: VERSION },
    paths,
    components: { schemas: { HTTPValidationError: HTTP_VALIDATION_ERROR } },
  };
}

/**
 * A schema's JSON Schema, when its library offers the Standard JSON Schema interface. Bytes
 * (`z.instanceof(Uint8Array)`, or any custom schema that takes a `Uint8Array` and refuses a
 * string) are described as `{"type":"string","format":"binary"}`; anything else JSON Schema
 * cannot describe is left open (`{}`) and named in one warning per route.
 *
 * @param schema The schema.
 * @param side `"input"` for what is sent to it, `"output"` for what it gives.
 * @param where The route and side, for the warning (`"POST /: input"`); none: no warning.
 * @returns The JSON Schema, or `undefined` (no schema, no converter, or not representable).
 */
export function jsonSchema(
  schema: Schema | undefined,
  side: "input" | "output",
  where?: string,
): JsonSchema | undefined {
  const converter = (schema?.["~standard"] as { jsonSchema?: JsonSchemaConverter } | undefined)
    ?.jsonSchema;
  if (!converter) return undefined;
  const dropped: string[] = [];
  // `libraryOptions` is passed to the library (zod 4's toJSONSchema options); others ignore it.
  const libraryOptions = {
    unrepresentable: "any",
    override(ctx: OverrideContext) {
      const type = ctx.zodSchema?._zod?.def?.type;
      if (type === undefined || !UNREPRESENTABLE.has(type)) return;
      if (takesBytes(ctx.zodSchema)) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, BINARY);
        return;
      }
      const at = ctx.path.filter((key) => key !== "properties").join(".");
      dropped.push(`${at || "(root)"} (${type})`);
    },
  };
  let value: JsonSchema | undefined;
  try {
    value = converter[side]({ target: "draft-2020-12", libraryOptions });
  } catch (error) {
    dropped.push(`the whole schema (${(error as Error).message})`);
  }
  if (where && dropped.length > 0) warnOnce(where, dropped);
  return value;
}

/** What zod 4 hands an `override` callback. */
interface OverrideContext {
  zodSchema?: { _zod?: { def?: { type?: string }; bag?: { Class?: unknown } } };
  jsonSchema: JsonSchema;
  path: (string | number)[];
}

/** zod 4 def types JSON Schema cannot describe (left as `{}` with `unrepresentable: "any"`). */
const UNREPRESENTABLE = new Set([
  "custom",
  "bigint",
  "symbol",
  "date",
  "map",
  "set",
  "function",
  "promise",
  "nan",
  "void",
  "undefined",
  "transform",
]);

const BINARY: JsonSchema = { type: "string", format: "binary" };

/** Whether a custom schema stands for bytes: `instanceof Uint8Array`, or takes one and no string. */
function takesBytes(schema: OverrideContext["zodSchema"]): boolean {
  const bag = schema?._zod?.bag;
  if (bag?.Class === Uint8Array) return true;
  const validate = (schema as Partial<Schema> | undefined)?.["~standard"]?.validate;
  if (!validate) return false;
  try {
    const bytes = validate(new Uint8Array(1));
    const text = validate("");
    return !(bytes instanceof Promise) && !(text instanceof Promise) && !bytes.issues &&
      Boolean(text.issues);
  } catch {
    return false;
  }
}

/** Warnings already given, so that each route's is given once per process. */
const warned = new Set<string>();

function warnOnce(where: string, parts: string[]): void {
  const text = `${where}: ${parts.join(", ")}`;
  if (warned.has(text)) return;
  warned.add(text);
  console.warn(
    `rally: OpenAPI: ${text} cannot be described in JSON Schema and are left open ({}) in ` +
      "/openapi.json (bytes are described as binary strings; give such fields a describable schema)",
  );
}

/** Content of a JSON or msgpack body: what a request sends, or what a response gives. */
function bodies(
  schema: Schema | undefined,
  side: "input" | "output",
  where?: string,
): Record<string, { schema?: JsonSchema }> {
  const value = jsonSchema(schema, side, where);
  const media = value ? { schema: value } : {};
  return { "application/json": media, "application/msgpack": media };
}

function messages(
  input: Schema | undefined,
  output: Schema | undefined,
  where: string,
): JsonSchema {
  const inputSchema = jsonSchema(input, "input", `${where}: input`);
  const outputSchema = jsonSchema(output, "output", `${where}: output`);
  return {
    ...(inputSchema && { input: inputSchema }),
    ...(outputSchema && { output: outputSchema }),
  };
}

function json(schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return { "application/json": { schema } };
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** An operation id from a path (`/` → `root`, `/v1/echo-x` → `v1_echo_x`), unique in `ids`. */
function uniqueId(path: string, ids: Set<string>): string {
  const base = path.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9]+/g, "_") || "root";
  let id = base;
  for (let n = 2; ids.has(id); n++) id = `${base}_${n}`;
  ids.add(id);
  return id;
}

const HEALTH: JsonSchema = {
  type: "object",
  properties: { status: { const: "ok" }, version: { type: "string" } },
  required: ["status", "version"],
};

const DETAIL: JsonSchema = {
  type: "object",
  properties: { detail: { type: "string" } },
  required: ["detail"],
};

const HTTP_VALIDATION_ERROR: JsonSchema = {
  type: "object",
  properties: {
    detail: {
      type: "array",
      items: {
        type: "object",
        properties: {
          loc: { type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
          msg: { type: "string" },
          type: { type: "string" },
        },
        required: ["loc", "msg", "type"],
      },
    },
  },
  required: ["detail"],
};
