import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { describe, expect, it } from "vitest";
import { compactHeap, createHeapCompactor, startedWith } from "../../src/heap-compactor.js";

/** A process whose CPU time and heap size the test sets, and which counts the compactions asked of it. */
function fakeProcess() {
  const state = {
    cpu: 0,
    heap: 30e6,
    compactions: 0,
    flushes: 0,
    releases: [] as number[],
    trims: 0,
    dropsBefore: [] as number[],
  };
  const compactor = createHeapCompactor({
    intervalMs: 10_000,
    cpuMs: () => state.cpu,
    heapBytes: () => state.heap,
    compact: ({ flushCode }) => {
      state.compactions++;
      if (flushCode) state.flushes++;
      state.heap = 30e6;
    },
    // Which compaction each release followed.
    release: () => state.releases.push(state.compactions),
    trim: () => state.trims++,
    // How many compactions had run when cached statements were dropped.
    beforeFlush: () => state.dropsBefore.push(state.compactions),
  });
  return { state, compactor };
}

describe("heap compactor (idle memory)", () => {
  it("compacts once at start, dropping start-up's compiled code, then not again while nothing has grown", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop(); // the test ticks by hand
    expect(state.compactions).toBe(1);
    expect(state.flushes).toBe(1);
    for (let i = 0; i < 10; i++) expect(compactor.tick()).toBe(null);
    expect(state.compactions).toBe(1);
  });

  it("never compacts during load, and once when the process has gone quiet after it", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    for (let i = 0; i < 5; i++) {
      state.cpu += 9_000; // 90% of a core over the interval
      state.heap += 20e6;
      expect(compactor.tick()).toBe(null);
    }
    state.cpu += 50; // 0.5%: quiet
    expect(compactor.tick()).toBe("compacted");
    expect(state.compactions).toBe(2);
    state.cpu += 50;
    expect(compactor.tick()).toBe(null); // nothing grew since
  });

  it("drops compiled code once the process has stayed quiet for four intervals, and once per idle period", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    const busy = () => {
      state.cpu += 5_000;
      return compactor.tick();
    };
    const quiet = () => {
      state.cpu += 10;
      return compactor.tick();
    };
    expect(busy()).toBe(null);
    expect([quiet(), quiet(), quiet()]).toEqual([null, null, null]);
    expect(quiet()).toBe("flushed");
    expect(state.flushes).toBe(2);
    expect(state.releases).toEqual([1, 2]); // the flush hands native memory back too
    expect(state.dropsBefore).toEqual([0, 1]); // cached statements dropped before each flush, so its GC frees them
    for (let i = 0; i < 10; i++) expect(quiet()).toBe(null);
    expect(state.flushes).toBe(2);
    // Work in between starts a new idle period: three quiet intervals are not enough, the fourth is.
    expect(busy()).toBe(null);
    expect([quiet(), quiet(), busy(), quiet(), quiet(), quiet()]).toEqual([null, null, null, null, null, null]);
    expect(quiet()).toBe("flushed");
    expect(state.flushes).toBe(3);
  });

  it("counts an idle server's own polling (about 1.5% of a core) as quiet, and light traffic at 6% as work", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    state.cpu += 5_000;
    compactor.tick();
    const actions = Array.from({ length: 4 }, () => {
      state.cpu += 150;
      return compactor.tick();
    });
    expect(actions).toEqual([null, null, null, "flushed"]);
    state.cpu += 600;
    expect(compactor.tick()).toBe(null);
    state.heap += 20e6;
    state.cpu += 600;
    expect(compactor.tick()).toBe(null); // grown, but not quiet: no compaction either
  });

  it("never drops compiled code of a process that is never quiet for long", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    for (let i = 0; i < 40; i++) {
      state.cpu += i % 4 === 3 ? 5_000 : 10; // busy one interval in four
      compactor.tick();
    }
    expect(state.flushes).toBe(1); // the one at start
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
    expect(state.dropsBefore).toEqual([0]); // an ordinary compaction keeps the cached statements
  });

  it("trims the freed malloc pages after each quiet interval that did not compact, never under load", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    state.cpu += 9_000;
    state.heap += 20e6;
    compactor.tick(); // under load
    expect(state.trims).toBe(0);
    state.cpu += 50;
    expect(compactor.tick()).toBe("compacted"); // the compaction's release trims already
    expect(state.trims).toBe(0);
    for (let i = 0; i < 2; i++) {
      state.cpu += 50;
      expect(compactor.tick()).toBe(null);
    }
    expect(state.trims).toBe(2);
    state.cpu += 50;
    expect(compactor.tick()).toBe("flushed");
    expect(state.trims).toBe(2);
    state.cpu += 50;
    compactor.tick();
    expect(state.trims).toBe(3);
    state.cpu += 9_000;
    compactor.tick(); // busy again
    expect(state.trims).toBe(3);
  });

  it("leaves a quiet heap that grew less than the threshold alone", () => {
    const { state, compactor } = fakeProcess();
    compactor.start();
    compactor.stop();
    state.heap += 1e6;
    expect(compactor.tick()).toBe(null);
    expect(state.compactions).toBe(1);
  });

  it("leaves on a V8 flag the operator started the process with, whichever way it was spelled", () => {
    expect(startedWith("flush-baseline-code", ["--flush-baseline-code"], "")).toBe(true);
    expect(startedWith("flush-baseline-code", [], "--max-semi-space-size=2 --flush_baseline_code")).toBe(true);
    expect(startedWith("flush-baseline-code", ["--no-flush-baseline-code"], "")).toBe(false);
    expect(startedWith("compact-on-every-full-gc", ["--max-semi-space-size=2", "--v8-pool-size=1"], "")).toBe(false);
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

  it("a real compaction that flushes code drops idle functions' compiled code, and they still run afterwards", () => {
    // A thousand distinct functions, each compiled to bytecode by one call and kept alive.
    const functions = Array.from(
      { length: 1000 },
      (_, i) =>
        new Function(
          "x",
          `let total = ${i}; for (let k = 0; k < 8; k++) { total += (x * ${i + 1} + k) % ${i + 7}; } ` +
            `const label = "f${i}:" + total; return label.length + total;`,
        ) as (x: number) => number,
    );
    const expected = functions.map((f, i) => f(i));
    const oldSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === "old_space")!.space_used_size;
    compactHeap();
    const compiled = oldSpaceUsed();
    compactHeap({ flushCode: true });
    const flushed = oldSpaceUsed();
    // About 1 KB of bytecode and metadata per function goes.
    expect(compiled - flushed).toBeGreaterThan(500_000);
    expect(functions.map((f, i) => f(i))).toEqual(expected);
  });
});
