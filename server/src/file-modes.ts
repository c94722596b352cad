import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

// Files under DATA_DIR (the SQLite database, its -wal and -shm, the secret key) hold every account's
// secrets: readable by their owner only (SPEC §3), whatever the umask or an older version left behind.

/** Sets a file to 0600 when group or others have any access; a file that does not exist is left alone. */
export function restrictToOwner(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    // fs errors are ErrnoExceptions; only "no such file" means there is nothing to narrow.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if ((mode & 0o077) !== 0) chmodSync(path, 0o600);
}

/** Creates `path` empty with mode 0600 when it is missing, and narrows it to 0600 when it exists. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  restrictToOwner(path);
}

/** Creates a directory (and its parents) with mode 0700; an existing one is the operator's and keeps its mode. */
export function ensurePrivateDir(path: string): void {
  if (!existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o700 });
}
