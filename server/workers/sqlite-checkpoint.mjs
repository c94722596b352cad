// WAL checkpoints for one SQLite database file, on their own thread (src/db/sqlite/checkpoint-thread.ts).
// Plain JavaScript so the same file serves the compiled server and the TypeScript tests.
//
// A checkpoint copies committed pages from the WAL into the database file and syncs both files.
// SQLite's automatic checkpoint runs inside whichever commit crosses the size threshold, so one
// request in a few dozen would wait for the sync. Here a PASSIVE checkpoint runs every few
// milliseconds on a connection of its own: it never blocks the writer or the readers, and once it
// has caught up, the writer's next commit starts the WAL over from its beginning.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/** @type {{ path: string, intervalMs: number }} */
const { path, intervalMs } = workerData;
const db = new Database(path);
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = NORMAL");

const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or I/O trouble: the next tick tries again, and the writer's own threshold is the backstop.
  }
}, intervalMs);

parentPort?.on("message", (message) => {
  if (message !== "close") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
