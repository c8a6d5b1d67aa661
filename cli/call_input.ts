/**
 * `rally call`'s view of an endpoint and its input: the route's streaming mode and input schema,
 * read from the server's `/openapi.json` when it answers, and bytes fields filled from a file
 * (`"@path"`) or from base64.
 *
 * @module
 */

/** What `rally call` learns of a route from the server's OpenAPI document. */
export interface RouteInfo {
  /** A realtime route's streaming mode. */
  mode?: "unary" | "server_streaming" | "client_streaming" | "bidi";
  /** The JSON Schema of the route's input. */
  input?: Record<string, unknown>;
}

/** How long `/openapi.json` may take, in ms. */
const OPENAPI_MS = 5_000;

/**
 * Read a route's mode and input schema from the server's `/openapi.json`.
 *
 * @param base The server's base URL.
 * @param path The route's path.
 * @param key An API key, for a server with auth.
 * @returns What the document says, or `undefined` when there is no document (not rally, auth, a
 * route it does not list).
 */
export async function routeInfo(
  base: string,
  path: string,
  key: string | undefined,
): Promise<RouteInfo | undefined> {
  const url = new URL(base.replace(/^ws(s?):/, "http$1:"));
  url.pathname = `${url.pathname.replace(/\/$/, "")}/openapi.json`;
  url.search = "";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), OPENAPI_MS);
  try {
    const response = await fetch(url, {
      headers: key ? { authorization: `Key ${key}` } : {},
      signal: abort.signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const doc = await response.json() as { paths?: Record<string, PathItem> };
    const item = doc.paths?.[path];
    if (!item) return undefined;
    const protocol = item["x-fal-protocol"];
    if (protocol) {
      return { mode: protocol.realtimeMode, input: item.get?.["x-rally-messages"]?.input };
    }
    return { input: item.post?.requestBody?.content?.["application/json"]?.schema };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

interface PathItem {
  "x-fal-protocol"?: { realtimeMode?: RouteInfo["mode"] };
  get?: { "x-rally-messages"?: { input?: Record<string, unknown> } };
  post?: {
    requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  };
}

/**
 * The dotted paths of the bytes fields (`format: "binary"`) of a JSON Schema: `image`,
 * `frames.*` for the items of an array.
 *
 * @param schema The schema.
 * @returns The paths.
 */
export function binaryPaths(schema: Record<string, unknown> | undefined): string[] {
  const found: string[] = [];
  const walk = (node: unknown, at: string[], depth: number) => {
    if (depth > 16 || node === null || typeof node !== "object") return;
    const value = node as Record<string, unknown>;
    if (value.format === "binary") return void found.push(at.join("."));
    const properties = value.properties as Record<string, unknown> | undefined;
    for (const [name, child] of Object.entries(properties ?? {})) {
      walk(child, [...at, name], depth + 1);
    }
    if (value.items) walk(value.items, [...at, "*"], depth + 1);
    for (const key of ["anyOf", "oneOf", "allOf"]) {
      for (const child of (value[key] as unknown[] | undefined) ?? []) walk(child, at, depth + 1);
    }
  };
  walk(schema, [], 0);
  return found.filter((path) => path !== "");
}

/**
 * Turn the bytes fields of an input into `Uint8Array`s: `"@path"` reads the file, any other
 * string is base64.
 *
 * @param input The input, parsed from JSON.
 * @param paths Dotted paths of its bytes fields (`*` for each item of an array).
 * @returns The input with bytes.
 * @throws {TypeError} for a file that cannot be read or a string that is not base64.
 */
export async function readBytes(input: unknown, paths: readonly string[]): Promise<unknown> {
  for (const path of paths) await fill(input, path.split("."), path);
  return input;
}

async function fill(node: unknown, keys: string[], path: string): Promise<void> {
  if (node === null || typeof node !== "object") return;
  const [key, ...rest] = keys;
  const container = node as Record<string, unknown>;
  const names = key === "*" && Array.isArray(node) ? [...node.keys()].map(String) : [key];
  for (const name of names) {
    if (rest.length > 0) {
      await fill(container[name], rest, path);
      continue;
    }
    const value = container[name];
    if (typeof value !== "string") continue;
    container[name] = await bytesOf(value, path);
  }
}

async function bytesOf(value: string, path: string): Promise<Uint8Array> {
  if (value.startsWith("@")) {
    try {
      return await Deno.readFile(value.slice(1));
    } catch (error) {
      throw new TypeError(`Cannot read ${value.slice(1)} for the bytes field ${path}: ${error}`);
    }
  }
  try {
    return Uint8Array.fromBase64(value);
  } catch {
    throw new TypeError(
      `The bytes field ${path} must be "@path" (a file) or base64, got "${value.slice(0, 20)}"`,
    );
  }
}
