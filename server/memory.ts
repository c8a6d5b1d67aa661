/**
 * Giving freed large buffers back to the operating system.
 *
 * Realtime sessions with large frames allocate and free buffers of megabytes (Deno's read
 * buffers, the frames' `ArrayBuffer`s, the send queue). glibc's allocator raises its mmap
 * threshold to the largest block freed so far (up to 32 MiB), so later large blocks come from its
 * heap arenas, and a heap with holes is not trimmed: after slow readers with 4 MiB inputs left,
 * the process kept 100+ MB of RSS for as long as it ran, with V8's heap and external memory back
 * at their baseline. Fixing the threshold at 128 KiB (glibc's default start) keeps every large
 * block in its own mapping, returned to the OS when it is freed.
 *
 * rally sets it once, when the first realtime session opens, on Linux with glibc where the
 * process may use FFI (`--allow-ffi`, or `-A`), unless `MALLOC_MMAP_THRESHOLD_` is set in the
 * environment (glibc reads that at start; the environment is the way without FFI).
 *
 * @module
 */

/** glibc's `mallopt` parameter number for the mmap threshold. */
const M_MMAP_THRESHOLD = -3;
/** The fixed threshold: blocks from this size up get their own mapping. */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

let done = false;

/**
 * Fix glibc's mmap threshold at 128 KiB, once per process, where possible.
 *
 * @returns Whether the threshold is fixed now (by this call or an earlier one).
 */
export function returnLargeBuffers(): boolean {
  if (done) return applied;
  done = true;
  applied = fixThreshold();
  return applied;
}

let applied = false;

function fixThreshold(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    const env = Deno.permissions.querySync({ name: "env", variable: "MALLOC_MMAP_THRESHOLD_" });
    if (env.state === "granted" && Deno.env.get("MALLOC_MMAP_THRESHOLD_") !== undefined) {
      return false; // the operator chose
    }
    const libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    try {
      return libc.symbols.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1;
    } finally {
      libc.close();
    }
  } catch {
    return false; // not glibc (musl has no libc.so.6 of this kind), or no FFI
  }
}
