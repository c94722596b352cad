import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Idle memory (SPEC §5: RSS ≤ 100 MB at rest). V8 frees dead objects at a full GC but keeps every old-generation
 * page that still holds one live object, so start-up's garbage (module sources compiled once, migrations, schema
 * compilers) and a burst of requests leave the heap about half empty and all resident. One compacting full GC
 * moves the live objects together and hands the emptied pages back (measured after start: RSS 104 → 87 MB).
 *
 * It runs once start-up is over, then whenever the process has gone quiet (under `quietCpuShare` of one core
 * for a whole `intervalMs`; an idle server spends about 1% on its own timers, the change bus's and the mail
 * outbox's polls) with a heap grown by `minGrowthBytes` since the last compaction: after a burst of
 * requests, never during one. It pauses the event loop for a few tens of milliseconds. After each compaction,
 * `release` hands back what lives outside V8's heap (main.ts: SQLite's page caches, then glibc's free pages), and
 * each quiet interval without a compaction runs `trim` (main.ts: glibc's free pages only).
 *
 * A process that stays idle for `flushAfterQuietIntervals` intervals in a row gets one more compaction, whatever
 * its heap did, which also drops compiled code:
 * - Every function a request ran keeps its bytecode, its type feedback and, once hot, its optimized machine
 *   code (about 6 MB after serving every flow once). V8 drops the bytecode of a function unused for five full
 *   GCs on its own, but an idle process hardly collects. This compaction, and the one at start, drop the
 *   compiled code of every function not running at that moment, except the functions V8 has optimized (those
 *   keep their code and bytecode: about 2,500 functions and 5.5 MB after a full bench run); a function called
 *   again is compiled again from its source, so the first requests after a long idle pay a few milliseconds
 *   for it. A process that never goes quiet that long is never flushed. Before it, `beforeFlush` empties the
 *   caches that only save time (main.ts).
 * - Its release comes after the threads that stop on their own have stopped (the SQLite checkpoint thread,
 *   20 s after the last write: its allocations are left free but resident in malloc's arenas until a trim).
 */
export interface HeapCompactorOptions {
  intervalMs?: number;
  quietCpuShare?: number;
  minGrowthBytes?: number;
  /** Quiet intervals in a row after which compiled code is dropped (once per idle period). */
  flushAfterQuietIntervals?: number;
  /** Process CPU time in ms (all threads). */
  cpuMs?: () => number;
  heapBytes?: () => number;
  compact?: (options: { flushCode: boolean }) => void;
  /** Runs after each compaction: hands back memory outside V8's heap (caches, freed malloc pages). */
  release?: () => void;
  /**
   * Runs after each quiet interval that did not compact: hands back the malloc pages freed since. An idle server
   * still runs its periodic jobs, and what they free stays resident until a trim (measured after the bench's full
   * load: the main arena grew by 2.5 MiB of free pages in the two minutes after the last compaction).
   */
  trim?: () => void;
  /** Runs before a compaction that drops compiled code: lets go of what only a GC frees (cached statements). */
  beforeFlush?: () => void;
}

/** What one check did. */
export type CompactorAction = "compacted" | "flushed" | null;

export interface HeapCompactor {
  /** Compacts once now (start-up is over, its code dropped), then watches for quiet. */
  start(): void;
  /** One check: compacts, or compacts and drops compiled code, when the last interval was quiet. */
  tick(): CompactorAction;
  stop(): void;
}

let collect: (() => void) | null = null;

/**
 * A compacting full GC: V8's gc() from a context where --expose-gc holds, with compaction forced for that one.
 * `flushCode` also drops the bytecode and baseline code of every function not on the stack and not optimized (V8's
 * own code flushing, without waiting for the functions to age); a second GC frees what the first one unlinked.
 */
export function compactHeap({ flushCode = false }: { flushCode?: boolean } = {}): void {
  if (collect === null) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  const flags = flushCode ? ["compact-on-every-full-gc", ...codeFlushFlags] : ["compact-on-every-full-gc"];
  for (const flag of flags) setFlagsFromString(`--${flag}`);
  try {
    collect();
    if (flushCode) collect();
  } finally {
    for (const flag of flags) if (!startedWith(flag)) setFlagsFromString(`--no-${flag}`);
  }
}

const codeFlushFlags = ["stress-flush-code", "flush-baseline-code"];

/**
 * Whether the process was started with V8 flag `--name` (node's own arguments or NODE_OPTIONS): an operator's
 * flag stays on after a compaction instead of being switched off with the compaction's own.
 */
export function startedWith(
  name: string,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env["NODE_OPTIONS"] ?? "",
): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => arg.replace(/_/g, "-") === `--${name}`);
}

const processCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export function createHeapCompactor(options: HeapCompactorOptions = {}): HeapCompactor {
  const {
    intervalMs = 10_000,
    quietCpuShare = 0.05,
    minGrowthBytes = 4 * 1024 * 1024,
    flushAfterQuietIntervals = 4,
    cpuMs = processCpuMs,
    heapBytes = () => getHeapStatistics().total_heap_size,
    compact = compactHeap,
    release = () => undefined,
    trim = () => undefined,
    beforeFlush = () => undefined,
  } = options;
  let timer: NodeJS.Timeout | null = null;
  let lastCpu = cpuMs();
  let compactedAt = Number.POSITIVE_INFINITY;
  let quietIntervals = 0;
  /** Whether the code has been dropped since the process last did any work. */
  let flushed = false;

  const compactNow = (flushCode: boolean): void => {
    if (flushCode) beforeFlush();
    compact({ flushCode });
    // After the GC, so that the buffers and statements it collected have let go of their native memory.
    release();
    compactedAt = heapBytes();
    flushed ||= flushCode;
    lastCpu = cpuMs(); // the compaction's and the release's own CPU do not count as activity
  };

  const compactor: HeapCompactor = {
    start() {
      if (timer !== null) return;
      compactNow(true);
      timer = setInterval(() => compactor.tick(), intervalMs);
      timer.unref();
    },
    tick() {
      const cpu = cpuMs();
      const quiet = cpu - lastCpu < intervalMs * quietCpuShare;
      lastCpu = cpu;
      if (!quiet) {
        quietIntervals = 0;
        flushed = false;
        return null;
      }
      quietIntervals++;
      if (!flushed && quietIntervals >= flushAfterQuietIntervals) {
        compactNow(true);
        return "flushed";
      }
      if (heapBytes() >= compactedAt + minGrowthBytes) {
        compactNow(false);
        return "compacted";
      }
      trim();
      lastCpu = cpuMs();
      return null;
    },
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
  return compactor;
}
