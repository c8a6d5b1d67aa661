/**
 * The answers rally gives by itself: FastAPI-shaped errors (`{"detail": ...}`), the 405 of a
 * route asked with the wrong method, and the paths that are rally's own.
 *
 * @module
 */
import { HttpError } from "../protocol.ts";

/** Paths every App serves itself: no route may take them. */
export const OWN_PATHS: readonly string[] = ["/health", "/openapi.json"];

/**
 * A FastAPI-shaped error response: `{"detail": ...}`.
 *
 * @param status The HTTP status.
 * @param detail A message, or a list of validation errors.
 * @param headers Extra headers.
 * @returns The response.
 */
export function fail(status: number, detail: unknown, headers?: HeadersInit): Response {
  return Response.json({ detail }, { status, headers });
}

/**
 * The 405 of a route asked with a method it does not take.
 *
 * @param allow The method it takes.
 * @returns A handler answering 405 with `Allow`.
 */
export function methodNotAllowed(allow: "GET" | "POST"): () => Response {
  return () => fail(405, "Method Not Allowed", { allow });
}

/**
 * The answer to an error a handler threw: an {@link HttpError}'s own status and detail, or a
 * 500 whose cause goes to the App's `onError` only (clients never see it).
 *
 * @param error What the handler threw.
 * @param report Passes an unexpected error on to the App's `onError`.
 * @returns The response.
 */
export function handlerFailed(error: unknown, report: (error: unknown) => void): Response {
  if (error instanceof HttpError) return fail(error.status, error.detail);
  report(error);
  return fail(500, "Internal Server Error");
}
