import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type Dialect } from "kysely";
import { createPrivateFile, ensurePrivateDir, restrictToOwner } from "../../file-modes.js";
import type { Database } from "../database.js";
import { runPreparedInTransactions } from "../prepared.js";
import { createCheckpointer } from "./checkpoint-thread.js";
import { runOn } from "./connection.js";
import { GroupCommitSqliteDialect } from "./group-commit.js";
import { serveFromReader } from "./read-cache.js";
import { withStatementCache } from "./statement-cache.js";

/** Writes this soon after opening (a fresh database's migrations) do not start the checkpoint thread. */
export const startupQuietMs = 10_000;

export interface SqliteOptions {
  /** Files only: under write load, checkpoint the WAL on a thread of its own, not inside commits (the server does). */
  checkpointThread?: boolean;
  /**
   * Transactions that end while others wait share one COMMIT (group-commit.ts); on by default. A
   * group holds the write lock until the event loop's next check phase, so two writing connections
   * to one file in one thread (two test instances in one process) must turn it off: the second would
   * wait synchronously for a lock the first can only release once it returns.
   */
  groupCommit?: boolean;
  /** Writes within this long of opening never start the checkpoint thread (default startupQuietMs: the migrations'). */
  checkpointQuietMs?: number;
  /** Hears of the checkpoint thread dying (it is not restarted for a minute; the commits checkpoint meanwhile). */
  onCheckpointThreadDeath?: (error: unknown) => void;
  /** Called with the SQL text of every statement run on the writing connection (db/connect.ts DbOptions). */
  onStatement?: (sql: string) => void;
}

/**
 * A SQLite database (a file, or `:memory:`) with the speed machinery of this folder wired in; see
 * README.md. Callers get a plain Kysely<Database>, as from PostgreSQL or MySQL.
 */
export function createSqliteDb(
  path: string,
  options: SqliteOptions = {},
  wrap: (dialect: Dialect) => Dialect = (dialect) => dialect,
): Kysely<Database> {
  if (path !== ":memory:") {
    // SQLite gives the -wal and -shm files the database file's mode, so a 0600 database keeps them 0600;
    // ones an older version left wider are narrowed before they are opened.
    ensurePrivateDir(dirname(path));
    createPrivateFile(path);
    for (const suffix of ["-wal", "-shm"]) restrictToOwner(`${path}${suffix}`);
  }
  const sqlite = new SQLite(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  // Concurrent writers (two instances, CLI next to the server) wait instead of failing at once.
  sqlite.pragma("busy_timeout = 5000");
  // Group commit runs each transaction in a savepoint: its sub-journal (the pages' contents before
  // the savepoint) stays in memory instead of spilling to a temporary file once a group passes 64 KiB.
  sqlite.pragma("temp_store = MEMORY");
  // The first seconds are the migrations' (SQLite checkpoints them inside their commits, as at any low write rate).
  const checkpointer =
    options.checkpointThread === true && path !== ":memory:"
      ? createCheckpointer(path, sqlite, {
          quietMs: options.checkpointQuietMs ?? startupQuietMs,
          ...(options.onCheckpointThreadDeath === undefined ? {} : { onDeath: options.onCheckpointThreadDeath }),
        })
      : null;
  const reader = path === ":memory:" ? null : new SQLite(path, { readonly: true });
  reader?.pragma("busy_timeout = 5000");
  const listeners: (() => void)[] = [];
  const afterWrite = (): void => {
    checkpointer?.noteWrite();
    for (const listener of listeners) listener();
  };
  const database = withStatementCache(sqlite, reader, afterWrite, () => checkpointer?.close(), options.onStatement);
  const db = new Kysely<Database>({
    dialect: wrap(
      options.groupCommit === false ? new SqliteDialect({ database }) : new GroupCommitSqliteDialect(sqlite, database),
    ),
  });
  // What the connection does per query, without its promise hand-offs.
  runPreparedInTransactions(db, (sqlText, parameters) => runOn(database, sqlText, parameters));
  if (reader !== null) serveFromReader(db, { connection: reader, onWrite: (listener) => listeners.push(listener) });
  idleMemory.set(db, {
    release: () => {
      for (const connection of [sqlite, reader]) {
        // A connection in the middle of a statement (an open iterator) keeps its cache until the next time.
        if (connection?.open === true) connection.pragma("shrink_memory");
      }
    },
    dropStatements: () => database.forgetStatements(),
  });
  return db;
}

/** What each SQLite database this process opened keeps only for speed, and how to let go of it when idle. */
const idleMemory = new WeakMap<Kysely<Database>, { release: () => void; dropStatements: () => void }>();

/**
 * Drops the writing connection's cached statements (statement-cache.ts): SQLite's compiled programs, a few KB
 * each and a few hundred after every flow has run, freed at the next GC. For a server that has stayed idle
 * (heap-compactor.ts runs it before the compaction that drops compiled code); nothing for PostgreSQL or MySQL.
 */
export function dropSqliteStatements(db: Kysely<Database>): void {
  idleMemory.get(db)?.dropStatements();
}

/**
 * Frees what the connections of a SQLite database hold in their page caches (`PRAGMA shrink_memory`;
 * they fill again from the file and the OS's cache as queries need them). Idle memory, run when the
 * server is quiet (heap-compactor.ts); nothing for PostgreSQL or MySQL.
 */
export function releaseSqliteMemory(db: Kysely<Database>): void {
  try {
    idleMemory.get(db)?.release();
  } catch {
    // better-sqlite3 refuses a statement while the connection is busy with another; the next quiet spell retries.
  }
}
