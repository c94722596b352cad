import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import SQLite from "better-sqlite3";
import {
  Kysely,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  type SqliteDatabase,
  type SqliteStatement,
} from "kysely";
import { createPool } from "mysql2";
import pg from "pg";
import type { Database } from "./database.js";
import { runPreparedInTransactions } from "./prepared.js";
import { GroupCommitSqliteDialect, runOn } from "./sqlite-driver.js";

export type DialectName = "sqlite" | "postgres" | "mysql";

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith("sqlite:")) return "sqlite";
  if (databaseUrl.startsWith("mysql://")) return "mysql";
  return "postgres";
}

// PostgreSQL returns int8 as text by default; our int8 columns are Unix milliseconds, well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

const statementCacheSize = 500;

/**
 * How often the checkpoint thread copies the WAL into the database file (a checkpoint with nothing
 * new to copy does nothing). At 50 ms, a few thousand logins a second leave a WAL of a few MB.
 */
const checkpointIntervalMs = 50;
/** SQLite's default: WAL pages after which a commit checkpoints by itself. */
const defaultCheckpointPages = 1000;
/** With the checkpoint thread, the commits' own threshold is a backstop (about 40 MB with 4 KiB pages) should the thread fall behind. */
const backstopCheckpointPages = 10_000;

export interface DbOptions {
  /** SQLite files only: checkpoint the WAL on a thread of its own instead of inside commits (the server does). */
  checkpointThread?: boolean;
  /**
   * SQLite: transactions that end while others wait share one COMMIT (db/sqlite-driver.ts); on by
   * default. A group holds the write lock until the event loop's next check phase, so two writing
   * connections to one file in one thread (two test instances in one process) must turn it off: the
   * second would wait synchronously for a lock the first can only release once it returns.
   */
  groupCommit?: boolean;
}

/** A statement that changes data or ends a transaction: once it has run, readers must not trust what they read before. */
function endsWrite(sqlText: string, statement: SQLite.Statement): boolean {
  return !statement.readonly || /^\s*(commit|end|rollback|release)\b/i.test(sqlText);
}

/**
 * Kysely prepares every query anew; preparing costs more than running our small indexed queries.
 * Queries are built from a fixed set of shapes, so caching statements by their SQL text is bounded.
 * Statements that write report to `afterWrite` once they have run.
 */
function withStatementCache(
  sqlite: SQLite.Database,
  reader: SQLite.Database | null,
  afterWrite: () => void,
  onClose: () => void,
): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      onClose();
      reader?.close();
      sqlite.close();
    },
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (statement === undefined) {
        if (statements.size >= statementCacheSize) statements.clear();
        const prepared = sqlite.prepare(sqlText);
        statement = endsWrite(sqlText, prepared) ? reportingWrites(prepared, afterWrite) : prepared;
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

function reportingWrites(statement: SQLite.Statement, afterWrite: () => void): SqliteStatement {
  return {
    reader: statement.reader,
    all(parameters) {
      try {
        return statement.all(parameters);
      } finally {
        afterWrite();
      }
    },
    run(parameters) {
      try {
        return statement.run(parameters);
      } finally {
        afterWrite();
      }
    },
    *iterate(parameters) {
      try {
        yield* statement.iterate(parameters);
      } finally {
        afterWrite();
      }
    },
  };
}

export interface SqliteReader {
  /** A read-only connection to the same file: it sees committed data only, never a transaction the writer has open. */
  connection: SQLite.Database;
  /** `listener` runs after every statement of this process's writer that changes data or ends a transaction. */
  onWrite(listener: () => void): void;
}

const readers = new WeakMap<Kysely<Database>, SqliteReader>();

/** The reader of a SQLite file database, for hot reads outside Kysely (session-lookup.ts); none for `:memory:`, PostgreSQL or MySQL. */
export function sqliteReader(db: Kysely<Database>): SqliteReader | undefined {
  return readers.get(db);
}

/**
 * A thread that runs PASSIVE checkpoints on the file (workers/sqlite-checkpoint.mjs) and never keeps
 * the process alive. The writer's own threshold is raised while the thread runs; should the thread
 * fail to start or die, the writer goes back to SQLite's default and checkpoints inside its commits.
 */
function startCheckpointThread(path: string, writer: SQLite.Database): { close(): void } {
  let closing = false;
  const worker = new Worker(new URL("../../workers/sqlite-checkpoint.mjs", import.meta.url), {
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

export function createDb(databaseUrl: string, options: DbOptions = {}): Kysely<Database> {
  const dialect = dialectOf(databaseUrl);
  if (dialect === "sqlite") {
    const path = databaseUrl.slice("sqlite:".length) || ":memory:";
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    // Concurrent writers (two instances, CLI next to the server) wait instead of failing at once.
    sqlite.pragma("busy_timeout = 5000");
    // Group commit runs each transaction in a savepoint: its sub-journal (the pages' contents before
    // the savepoint) stays in memory instead of spilling to a temporary file once a group passes 64 KiB.
    sqlite.pragma("temp_store = MEMORY");
    const checkpointer =
      options.checkpointThread === true && path !== ":memory:" ? startCheckpointThread(path, sqlite) : null;
    const reader = path === ":memory:" ? null : new SQLite(path, { readonly: true });
    reader?.pragma("busy_timeout = 5000");
    const listeners: (() => void)[] = [];
    const afterWrite = (): void => {
      for (const listener of listeners) listener();
    };
    const database = withStatementCache(sqlite, reader, afterWrite, () => checkpointer?.close());
    const db = new Kysely<Database>({
      dialect:
        options.groupCommit === false
          ? new SqliteDialect({ database })
          : new GroupCommitSqliteDialect(sqlite, database),
    });
    // What the connection does per query, without its promise hand-offs.
    runPreparedInTransactions(db, (sqlText, parameters) => runOn(database, sqlText, parameters));
    if (reader !== null) readers.set(db, { connection: reader, onWrite: (listener) => listeners.push(listener) });
    return db;
  }
  if (dialect === "mysql") {
    return new Kysely<Database>({
      dialect: new MysqlDialect({
        pool: createPool({ uri: databaseUrl, connectionLimit: 10, supportBigNumbers: true, bigNumberStrings: false }),
      }),
    });
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // An idle client whose server connection dies (a PostgreSQL restart, a proxy's idle timeout) is emitted
  // as a pool "error"; with no listener that crashes the process. The pool drops the client and the next
  // query opens a fresh connection, so there is nothing else to do.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
