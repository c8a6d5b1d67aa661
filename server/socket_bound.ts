/**
 * When a realtime session's socket counts as full. Past {@link HIGH_WATER_MARK} unsent bytes a
 * session stops taking work and holds its out-of-turn replies (refusals, `dropped` reports),
 * looking again every {@link DRAIN_POLL_MS}: a client that does not read costs bounded memory.
 *
 * @module
 */

/** Past this many unsent bytes on the socket, the session stops taking work. */
export const HIGH_WATER_MARK = 1024 * 1024;

/** How often a paused session looks at the socket again, in milliseconds. */
export const DRAIN_POLL_MS = 5;
