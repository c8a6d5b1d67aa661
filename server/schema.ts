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
 */
export interface Schema<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": SchemaProps<Input, Output>;
}

/** The `~standard` properties of a {@link Schema}. */
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

/** What a {@link Schema}'s `validate` returns. */
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
 */
export type InferOutput<S> = S extends Schema<unknown, infer O> ? O : unknown;

/**
 * What a schema takes (Standard Schema's input type): what a handler returns for its output
 * schema. `unknown` without a schema.
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
