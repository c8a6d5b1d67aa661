/**
 * The messages every variant sends: a `{ prompt }`-sized input (answered with a small
 * `{ output }`) and a 100 KB binary payload.
 *
 * @module
 */

/** A typical prompt, about 80 bytes. */
export const PROMPT =
  "a watercolor painting of a lighthouse on a cliff at dawn, soft light, fine detail";

/** The small input. */
export const SMALL_INPUT: { prompt: string } = { prompt: PROMPT };

/** Size of the binary payload, in bytes. */
export const IMAGE_BYTES = 100 * 1024;

/** The 100 KB payload (a fixed pseudo-random pattern, so nothing compresses it). */
export const IMAGE: Uint8Array<ArrayBuffer> = Uint8Array.from(
  { length: IMAGE_BYTES },
  (_, i) => (i * 2654435761) >>> 24,
);

/** The binary input: `{ image }`, answered with the same. */
export const IMAGE_INPUT: { image: Uint8Array } = { image: IMAGE };
