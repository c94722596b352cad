import { createRequire } from "node:module";
import type Koffi from "koffi";

/**
 * Idle memory (SPEC §5: RSS ≤ 100 MB at rest), the part outside V8's heap. glibc's malloc keeps what the
 * process frees in its arenas, and `free()` hands back only the top of one: after a burst of requests the
 * main arena holds the freed SQLite pages, statement buffers and request buffers between live chunks, all
 * resident (measured after a two-factor login load: the `[heap]` mapping at ~20 MB against 8 MB after
 * start). `malloc_trim(0)` returns every whole free page of every arena to the kernel. Node has no binding
 * for it, so it is reached through koffi (a foreign-function library), loaded on the first trim, not at
 * start. Where the C library is not glibc (musl, macOS, Windows), there is no such function and a trim
 * does nothing.
 */
type MallocTrim = (pad: number) => number;

let mallocTrim: MallocTrim | null | undefined;

function loadMallocTrim(): MallocTrim | null {
  if (process.platform !== "linux") return null;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof Koffi;
    return koffi.load("libc.so.6").func("int malloc_trim(size_t pad)") as MallocTrim;
  } catch {
    // No glibc (musl names its library differently), or koffi has no build for this machine.
    return null;
  }
}

/** Whether this process can hand freed native memory back (glibc on Linux). */
export function canTrimNativeHeap(): boolean {
  mallocTrim ??= loadMallocTrim();
  return mallocTrim !== null;
}

/**
 * Hands the whole free pages of every malloc arena back to the kernel. A few milliseconds of the event loop
 * for a fragmented heap of tens of MB, so it runs only when the process is quiet (heap-compactor.ts).
 * Returns whether any memory went back.
 */
export function trimNativeHeap(): boolean {
  mallocTrim ??= loadMallocTrim();
  return mallocTrim !== null && mallocTrim(0) === 1;
}
