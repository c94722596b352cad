import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";

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

/**
 * A thread that runs PASSIVE checkpoints on the file (workers/sqlite-checkpoint.mjs) and never keeps
 * the process alive. The writer's own threshold is raised while the thread runs; should the thread
 * fail to start or die, the writer goes back to SQLite's default and checkpoints inside its commits.
 */
export function startCheckpointThread(path: string, writer: SQLite.Database): { close(): void } {
  let closing = false;
  // Same relative path from src/db/sqlite and dist/db/sqlite.
  const worker = new Worker(new URL("../../../workers/sqlite-checkpoint.mjs", import.meta.url), {
    workerData: { path, intervalMs: checkpointIntervalMs },
  });
  worker.unref();
  writer.pragma(`wal_autocheckpoint = ${backstopCheckpointPages}`);
  const fallBack = (): void => {
    if (!closing && writer.open) writer.pragma(`wal_autocheckpoint = ${defaultCheckpointPages}`);
  };
  worker.on("error", fallBack);
  worker.on("exit", fallBack);
  return {
    close() {
      closing = true;
      worker.postMessage("close");
    },
  };
}
