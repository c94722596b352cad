import { getHeapStatistics } from "node:v8";
import { describe, expect, it } from "vitest";
import { compactHeap, createHeapCompactor } from "../../src/heap-compactor.js";

/** A process whose CPU time and heap size the test sets, and which counts the compactions asked of it. */
function fakeProcess() {
  const state = { cpu: 0, heap: 30e6, compactions: 0, releases: [] as number[] };
  const compactor = createHeapCompactor({
    intervalMs: 10_000,
    cpuMs: () => state.cpu,
    heapBytes: () => state.heap,
    compact: () => {
      state.compactions++;
      state.heap = 30e6;
    },
    // Which compaction each release followed.
    release: () => state.releases.push(state.compactions),
  });
  return { state, compactor };
}

describe("heap compactor (idle memory)", () => {
  it("compacts once at start, then not again while nothing has grown", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop(); // the test ticks by hand
    expect(state.compactions).toBe(1);
    expect(compactor.tick()).toBe(false);
    expect(state.compactions).toBe(1);
  });

  it("never compacts during load, and once when the process has gone quiet after it", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    for (let i = 0; i < 5; i++) {
      state.cpu += 9_000; // 90% of a core over the interval
      state.heap += 20e6;
      expect(compactor.tick()).toBe(false);
    }
    state.cpu += 50; // 0.5%: quiet
    expect(compactor.tick()).toBe(true);
    expect(state.compactions).toBe(2);
    state.cpu += 50;
    expect(compactor.tick()).toBe(false); // nothing grew since
  });

  it("hands native memory back after each compaction, and only then", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    expect(state.releases).toEqual([1]);
    state.cpu += 9_000;
    state.heap += 20e6;
    compactor.tick(); // under load: neither
    expect(state.releases).toEqual([1]);
    state.cpu += 50;
    compactor.tick();
    expect(state.releases).toEqual([1, 2]);
  });

  it("leaves a quiet heap that grew less than the threshold alone", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    state.heap += 1e6;
    expect(compactor.tick()).toBe(false);
    expect(state.compactions).toBe(1);
  });

  it("a real compaction gives back the pages garbage left half empty", () => {
    // Old-generation garbage interleaved with survivors: a plain full GC frees the garbage but keeps the pages.
    const keep: unknown[] = [];
    const junk: unknown[] = [];
    for (let i = 0; i < 200_000; i++) {
      const item = { i, text: `item ${i}`.repeat(4) };
      if (i % 16 === 0) keep.push(item);
      else junk.push(item);
    }
    junk.length = 0;
    const before = getHeapStatistics().total_heap_size;
    compactHeap();
    const after = getHeapStatistics().total_heap_size;
    expect(keep.length).toBe(12_500);
    expect(after).toBeLessThan(before);
  });
});
