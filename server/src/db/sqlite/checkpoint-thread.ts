import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";
import { serverFile } from "../../paths.js";

/**
 * How often the checkpoint thread copies the WAL into the database file (a checkpoint with nothing
 * new to copy does nothing). At 50 ms, a few thousand logins a second leave a WAL of a few MB.
 */
const checkpointIntervalMs = 50;
/** SQLite's default: WAL pages after which a commit checkpoints by itself. */
const defaultCheckpointPages = 1000;
/**
 * With the checkpoint thread, the commits' own threshold is a backstop (about 40 MB with 4 KiB
 * pages) should the thread fall behind.
 */
const backstopCheckpointPages = 10_000;

export interface CheckpointerOptions {
  /** Writes within one `windowMs` that start the thread (below that rate, commits checkpoint themselves). */
  startAfterWrites?: number;
  windowMs?: number;
  /** The thread stops after this long without a write. */
  idleMs?: number;
  /** Called when the thread dies on its own (not when told to stop), with its error or exit code. */
  onDeath?: (error: unknown) => void;
  /**
   * Writes within this long of creation do not count: a fresh database's migrations are a burst of
   * a hundred writes that ends at once, and a thread started by them would only hold its heap until idle.
   */
  quietMs?: number;
}

export interface Checkpointer {
  /** Called after every write on the connection: cheap, and starts the thread once writes come fast. */
  noteWrite(): void;
  /** Whether the thread runs now. */
  readonly running: boolean;
  close(): void;
}

/**
 * PASSIVE checkpoints on a thread of their own (workers/sqlite-checkpoint.mjs) while writes come
 * fast, so no request waits for a checkpoint's disk sync. A thread holds a JavaScript heap of its
 * own (about 12 MB), so it runs only under write load: it starts once `startAfterWrites` writes land
 * within `windowMs` and stops after `idleMs` without one. While it runs the writer's own threshold
 * is raised to the backstop; when it stops, fails to start or dies, the writer goes back to SQLite's
 * default and checkpoints inside its commits, as it does at low write rates. The thread never keeps
 * the process alive.
 */
export function createCheckpointer(
  path: string,
  writer: SQLite.Database,
  { startAfterWrites = 64, windowMs = 1000, idleMs = 20_000, onDeath, quietMs = 0 }: CheckpointerOptions = {},
): Checkpointer {
  const quietUntil = Date.now() + quietMs;
  let worker: Worker | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let windowStart = 0;
  let writesInWindow = 0;
  let lastWrite = 0;
  let closed = false;
  /** When a thread last died on its own: no new one for a minute, rather than one per burst of writes. */
  let diedAt = Number.NEGATIVE_INFINITY;

  const useDefaultThreshold = (): void => {
    if (writer.open) writer.pragma(`wal_autocheckpoint = ${defaultCheckpointPages}`);
  };

  const stop = (): void => {
    if (idleTimer !== null) clearInterval(idleTimer);
    idleTimer = null;
    if (worker === null) return;
    worker.postMessage("close");
    worker = null;
    useDefaultThreshold();
  };

  const start = (): void => {
    const thread = new Worker(serverFile("workers/sqlite-checkpoint.mjs"), {
      workerData: { path, intervalMs: checkpointIntervalMs },
    });
    thread.unref();
    const ended = (reason: unknown): void => {
      // A thread that died (rather than one told to stop) hands checkpoints back to the commits.
      if (worker !== thread) return;
      worker = null;
      diedAt = Date.now();
      if (idleTimer !== null) clearInterval(idleTimer);
      idleTimer = null;
      if (closed) return;
      useDefaultThreshold();
      onDeath?.(reason);
    };
    thread.on("error", ended);
    thread.on("exit", ended);
    worker = thread;
    writer.pragma(`wal_autocheckpoint = ${backstopCheckpointPages}`);
    idleTimer = setInterval(() => {
      if (Date.now() - lastWrite >= idleMs) stop();
    }, idleMs / 4);
    idleTimer.unref();
  };

  return {
    noteWrite() {
      const now = Date.now();
      lastWrite = now;
      if (worker !== null || closed || now - diedAt < 60_000 || now < quietUntil) return;
      if (now - windowStart >= windowMs) {
        windowStart = now;
        writesInWindow = 0;
      }
      if (++writesInWindow >= startAfterWrites) start();
    },
    get running() {
      return worker !== null;
    },
    close() {
      closed = true;
      stop();
    },
  };
}
