// What the page reads from JSON Schemas: a starting input (the schema's example, else a skeleton
// built from it) and the bytes fields, which are filled from files.

/**
 * Follow a `$ref` (local: `#/...` in the schema itself, else in the OpenAPI document).
 *
 * @param {any} schema The schema.
 * @param {any} root The schema the refs point into.
 * @param {any} doc The OpenAPI document.
 * @returns {any} The schema the ref points to, or the schema.
 */
export function deref(schema, root, doc) {
  for (let i = 0; i < 16 && schema && typeof schema.$ref === "string"; i++) {
    const ref = schema.$ref;
    if (!ref.startsWith("#/")) return {};
    const walk = (from) =>
      ref.slice(2).split("/").reduce(
        (at, key) => at?.[key.replace(/~1/g, "/").replace(/~0/g, "~")],
        from,
      );
    schema = walk(root) ?? walk(doc) ?? {};
  }
  return schema ?? {};
}

/**
 * Whether a schema describes bytes: `format: binary`, or `contentMediaType` / `contentEncoding`.
 *
 * @param {any} schema The schema.
 * @returns {boolean} Whether it does.
 */
export function isBytes(schema) {
  return Boolean(
    schema && (schema.format === "binary" || schema.contentMediaType || schema.contentEncoding),
  );
}

/**
 * The top-level bytes fields of an object schema.
 *
 * @param {any} schema The input schema.
 * @param {any} doc The OpenAPI document.
 * @returns {{ name: string, required: boolean, type?: string }[]} The fields.
 */
export function bytesFields(schema, doc) {
  const object = deref(schema, schema, doc);
  const required = new Set(object?.required ?? []);
  return Object.entries(object?.properties ?? {})
    .map(([name, field]) => [name, deref(field, schema, doc)])
    .filter(([, field]) => isBytes(field))
    .map(([name, field]) => ({
      name,
      required: required.has(name),
      type: field.contentMediaType,
    }));
}

/**
 * A starting input for a schema: its example, else a skeleton (bytes fields left out: they come
 * from files).
 *
 * @param {any} schema The input schema (or undefined: no schema).
 * @param {any} doc The OpenAPI document.
 * @returns {unknown} The input.
 */
export function startingInput(schema, doc) {
  if (!schema || Object.keys(schema).length === 0) return {};
  const example = schema.examples?.[0] ?? schema.example;
  if (example !== undefined) return example;
  return skeleton(schema, schema, doc, 0);
}

function skeleton(schema, root, doc, depth) {
  schema = deref(schema, root, doc);
  if (depth > 8) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  const example = schema.examples?.[0] ?? schema.example;
  if (example !== undefined) return example;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const choice = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(choice) && choice.length > 0) {
    const first = choice.find((option) => deref(option, root, doc).type !== "null") ?? choice[0];
    return skeleton(first, root, doc, depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return Object.assign({}, ...schema.allOf.map((part) => skeleton(part, root, doc, depth + 1)));
  }
  const type = Array.isArray(schema.type)
    ? schema.type.find((t) => t !== "null") ?? "null"
    : schema.type ?? (schema.properties ? "object" : undefined);
  switch (type) {
    case "object": {
      const out = {};
      for (const [name, field] of Object.entries(schema.properties ?? {})) {
        if (isBytes(deref(field, root, doc))) continue;
        out[name] = skeleton(field, root, doc, depth + 1);
      }
      return out;
    }
    case "array":
      return schema.minItems > 0 && schema.items
        ? [skeleton(schema.items, root, doc, depth + 1)]
        : [];
    case "string":
      return "";
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}
