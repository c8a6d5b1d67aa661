/**
 * Standard Schema validation: any library that implements the spec (zod 4, valibot, arktype)
 * types and checks a route's input and output.
 *
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Issue } from "../protocol.ts";

/** A Standard Schema object (zod 4, valibot, arktype, ...). */
export type Schema = StandardSchemaV1;

/** What a handler receives for a schema: its output type, or `unknown` without a schema. */
export type In<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/** What a handler returns for a schema: its input type, or `unknown` without a schema. */
export type Out<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown;

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

function toChecked(result: StandardSchemaV1.Result<unknown>): Checked {
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
