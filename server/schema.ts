/**
 * Standard Schema validation: any library that implements the spec (zod 4, valibot, arktype)
 * types and checks a route's input and output.
 *
 * @module
 */
import type { Issue } from "../protocol.ts";

/**
 * A Standard Schema object (zod 4, valibot, arktype, ...): rally's own statement of the
 * `@standard-schema/spec` v1 interface, so that every library's schemas fit structurally.
 * @example
 * ```ts
 * import { App, type Schema } from "@rally/rally/server";
 * import assert from "node:assert/strict";
 *
 * // Any Standard Schema fits (zod 4, valibot, arktype); this one is written by hand.
 * const Even: Schema<number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" && value % 2 === 0
 *         ? { value }
 *         : { issues: [{ message: "Expected an even number" }] },
 *   },
 * };
 * const app = new App().endpoint("/", { input: Even }, (n) => ({ half: n / 2 }));
 * const post = (body: unknown) =>
 *   app.fetch(new Request("http://localhost/", {
 *     method: "POST",
 *     body: JSON.stringify(body),
 *     headers: { "content-type": "application/json" },
 *   }));
 * assert.deepEqual(await (await post(4)).json(), { half: 2 });
 * assert.equal((await post(3)).status, 422);
 * ```
 */
export interface Schema<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": SchemaProps<Input, Output>;
}

/**
 * The `~standard` properties of a {@link Schema}.
 *
 * @example
 * ```ts
 * import type { SchemaProps } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const props: SchemaProps<{ n: number }> = z.object({ n: z.number() })["~standard"];
 * assert.equal(props.version, 1);
 * assert.equal(props.vendor, "zod");
 * ```
 */
export interface SchemaProps<Input = unknown, Output = Input> {
  /** Version of the spec: 1. */
  readonly version: 1;
  /** The library that made the schema. */
  readonly vendor: string;
  /** Validate a value, synchronously or not. */
  readonly validate: (value: unknown) => SchemaResult<Output> | Promise<SchemaResult<Output>>;
  /** The types the schema takes and gives (for inference only). */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/**
 * What a {@link Schema}'s `validate` returns.
 *
 * @example
 * ```ts
 * import type { SchemaResult } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const result = await z.string()["~standard"].validate(42) as SchemaResult<string>;
 * assert.ok(result.issues !== undefined && result.issues.length === 1);
 * ```
 */
export type SchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
    /** Each complaint, and where: keys or `{ key }` segments (rally reports them as an {@link Issue}). */
    readonly issues: ReadonlyArray<{
      readonly message: string;
      readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
    }>;
  };

/**
 * What a schema gives once it has validated a value (Standard Schema's output type): what a
 * handler receives for its input schema. `unknown` without a schema.
 * @example
 * ```ts
 * import type { InferOutput } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Input = z.object({ n: z.string().transform(Number) });
 * // What a handler receives: the schema's output (here after the transform).
 * const input: InferOutput<typeof Input> = Input.parse({ n: "2" });
 * assert.equal(input.n + 1, 3);
 * ```
 */
export type InferOutput<S> = S extends Schema<unknown, infer O> ? O : unknown;

/**
 * What a schema takes (Standard Schema's input type): what a handler returns for its output
 * schema. `unknown` without a schema.
 * @example
 * ```ts
 * import type { InferInput } from "@rally/rally/server";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const Output = z.object({ n: z.string().transform(Number) });
 * // What a handler returns for its output schema: the schema's input (before the transform).
 * const output: InferInput<typeof Output> = { n: "2" };
 * assert.deepEqual(Output.parse(output), { n: 2 });
 * ```
 */
export type InferInput<S> = S extends Schema<infer I, unknown> ? I : unknown;

/** The outcome of a validation: the (possibly transformed) value, or the issues. */
export type Checked = { value: unknown; issues?: undefined } | { issues: Issue[] };

/**
 * Validate a value against an optional schema, synchronously when the schema is.
 *
 * @param schema The schema; without one, the value passes as it is.
 * @param value The value to check.
 * @returns The checked value or its issues, or a promise of them for async schemas.
 */
export function check(schema: Schema | undefined, value: unknown): Checked | Promise<Checked> {
  if (!schema) return { value };
  const result = schema["~standard"].validate(value);
  return result instanceof Promise ? result.then(toChecked) : toChecked(result);
}

/**
 * One line that sums up a list of issues: `"prompt: Invalid input: expected string"`.
 *
 * @param issues The issues.
 * @returns The summary.
 */
export function summarize(issues: readonly Issue[]): string {
  return issues.map((issue) =>
    issue.path?.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message
  ).join("; ");
}

/**
 * The error of an output that failed its schema, the same on every transport (HTTP, SSE,
 * realtime): a `TypeError` whose message sums up the issues, with the issues themselves as
 * `issues`. It goes to the App's `onError` (and the log); clients get a generic 500 or
 * `INTERNAL_ERROR`, as for any server bug.
 *
 * @param issues What the schema said.
 * @returns The error to throw.
 */
export function outputFailed(issues: readonly Issue[]): TypeError & { issues: readonly Issue[] } {
  return Object.assign(new TypeError(`Output failed its schema: ${summarize(issues)}`), {
    issues,
  });
}

function toChecked(result: SchemaResult<unknown>): Checked {
  if (!result.issues) return { value: result.value };
  return {
    issues: result.issues.map((issue) => ({
      message: issue.message,
      path: issue.path?.map((segment) => {
        const key = typeof segment === "object" ? segment.key : segment;
        return typeof key === "number" ? key : String(key);
      }),
    })),
  };
}
