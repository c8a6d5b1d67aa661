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

/** A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document, as rally writes it. */
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

/** What `x-fal-protocol` says of a WebSocket route. */
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
  input(options: { target: string }): JsonSchema;
  output(options: { target: string }): JsonSchema;
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
      const output = jsonSchema(route.output, "output");
      paths[path] = {
        post: {
          operationId,
          requestBody: {
            required: route.input !== undefined,
            content: bodies(route.input, "input"),
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
            "x-rally-messages": messages(route.input, route.output),
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
 * A schema's JSON Schema, when its library offers the Standard JSON Schema interface.
 *
 * @param schema The schema.
 * @param side `"input"` for what is sent to it, `"output"` for what it gives.
 * @returns The JSON Schema, or `undefined` (no schema, no converter, or not representable).
 */
export function jsonSchema(
  schema: Schema | undefined,
  side: "input" | "output",
): JsonSchema | undefined {
  const converter = (schema?.["~standard"] as { jsonSchema?: JsonSchemaConverter } | undefined)
    ?.jsonSchema;
  try {
    return converter?.[side]({ target: "draft-2020-12" });
  } catch {
    return undefined; // e.g. a transform that JSON Schema cannot describe
  }
}

/** Content of a JSON or msgpack body: what a request sends, or what a response gives. */
function bodies(
  schema: Schema | undefined,
  side: "input" | "output",
): Record<string, { schema?: JsonSchema }> {
  const value = jsonSchema(schema, side);
  const media = value ? { schema: value } : {};
  return { "application/json": media, "application/msgpack": media };
}

function messages(input: Schema | undefined, output: Schema | undefined): JsonSchema {
  const inputSchema = jsonSchema(input, "input");
  const outputSchema = jsonSchema(output, "output");
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
