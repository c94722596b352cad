import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compactHeap } from "../../src/heap-compactor.js";
import { canTrimNativeHeap, trimNativeHeap } from "../../src/native-memory.js";

const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
const glibc = process.platform === "linux" && report.header.glibcVersionRuntime !== undefined;

/** This process's resident memory, from the kernel (not V8's view of it). */
function residentBytes(): number {
  const line = readFileSync("/proc/self/status", "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line?.[1]) * 1024;
}

describe("native memory handed back when quiet (idle memory)", () => {
  it("reaches malloc_trim where the C library is glibc, and nothing elsewhere", () => {
    expect(canTrimNativeHeap()).toBe(glibc);
    if (!glibc) expect(trimNativeHeap()).toBe(false);
  });

  it("a trim returns the free pages that lie between live allocations (glibc)", async () => {
    if (!glibc) return; // the test above covers the other C libraries
    // 16 KiB buffers come from malloc's arenas (below its mmap threshold); freeing every other one leaves
    // holes that free() cannot give back, since a live buffer sits above each of them.
    const held: Buffer[] = [];
    let garbage: Buffer[] = [];
    for (let i = 0; i < 12_000; i++) (i % 2 === 0 ? held : garbage).push(Buffer.alloc(16 * 1024, 1));
    garbage = [];
    compactHeap();
    await new Promise((resolve) => setTimeout(resolve, 200)); // backing stores may be freed off the main thread
    compactHeap();
    const before = residentBytes();
    expect(trimNativeHeap()).toBe(true);
    const after = residentBytes();
    // About 6,000 × 12 KiB of whole free pages; half of it is a margin for what the test process does meanwhile.
    expect(before - after).toBeGreaterThan(35 * 1024 * 1024);
    expect(held.every((buffer) => buffer[16 * 1024 - 1] === 1)).toBe(true);
    expect(garbage).toHaveLength(0);
  });
});
