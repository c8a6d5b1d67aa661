/**
 * The brand by which any copy of rally knows an App: `Symbol.for("rally.app")` on the App's
 * prototype, holding the version of the copy that made it and that copy's `serve()`. A CLI from
 * one copy (a global install) can then serve an App built with another copy (the project's own),
 * where `instanceof` fails.
 *
 * @module
 */
import type { ServeOptions, Server } from "./serve.ts";

/** The key of the brand: the same symbol in every copy of rally (`Symbol.for`). */
export const APP_BRAND: unique symbol = Symbol.for("rally.app");

/** A route as the startup line lists it. */
export interface RouteSummary {
  /** `endpoint`, `stream`, `realtime`, `websocket`, `webrtc` or `get`. */
  kind: string;
  /** The URL path. */
  path: string;
}

/** What the brand holds: what the copy that made an App offers for it. */
export interface AppBrand {
  /** That copy's version. */
  version: string;
  /**
   * Serve an App with that copy's `serve()`.
   *
   * @param app The App (made by that copy).
   * @param options Where to listen and how to stop.
   * @returns The running server.
   */
  serve(app: unknown, options?: ServeOptions): Server;
  /**
   * The App's routes, for the startup line.
   *
   * @param app The App.
   * @returns Kind and path of each route, in the order they were added.
   */
  routes(app: unknown): RouteSummary[];
}

/**
 * The brand of a value that is an App made by any copy of rally, or of an App class.
 *
 * @param value A module's default export.
 * @returns The brand and whether the value is a class (to instantiate), or `undefined`.
 */
export function brandOf(value: unknown): { brand: AppBrand; isClass: boolean } | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    return undefined;
  }
  const own = (value as { [APP_BRAND]?: AppBrand })[APP_BRAND];
  if (typeof value === "object" && isBrand(own)) return { brand: own, isClass: false };
  const proto = typeof value === "function"
    ? (value as { prototype?: { [APP_BRAND]?: AppBrand } }).prototype?.[APP_BRAND]
    : undefined;
  return isBrand(proto) ? { brand: proto, isClass: true } : undefined;
}

function isBrand(value: unknown): value is AppBrand {
  return typeof (value as AppBrand | undefined)?.serve === "function";
}
