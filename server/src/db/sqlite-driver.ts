import type SQLite from "better-sqlite3";
import { SelectQueryNode, SqliteDialect, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type SqliteDatabase } from "kysely";

/** Most transactions one commit carries. */
export const maxGroupSize = 32;
/** Longest a group stays open while more transactions keep joining it (the first one's reply waits this long at most). */
export const maxGroupMs = 4;

const member = "tessera_group_member";

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Group {
  openedAt: number;
  size: number;
  /** Every holder of the connection since the group began: each hears of the one commit. */
  waiters: Waiter[];
}

/** Runs a query on the single connection, as Kysely's SQLite connection does (statements come from the cache). */
export function runOn(database: SqliteDatabase, sqlText: string, parameters: readonly unknown[]): QueryResult<unknown> {
  const statement = database.prepare(sqlText);
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

class SqliteConnection implements DatabaseConnection {
  constructor(private readonly database: SqliteDatabase) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(runOn(this.database, compiledQuery.sql, compiledQuery.parameters) as QueryResult<R>);
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error("SQLite streams SELECT queries only");
    for (const row of this.database.prepare(compiledQuery.sql).iterate(compiledQuery.parameters)) yield { rows: [row as R] };
  }
}

/**
 * Group commit for the one SQLite connection. A commit writes every page its transaction changed to
 * the WAL; under load that was about a quarter of a 2FA login's main-thread time. Here each
 * transaction runs in a savepoint of a shared SQLite transaction. When one ends while others wait
 * for the connection, the next runs in the same SQLite transaction; when none waits, the COMMIT
 * is put off until the event loop's check phase (setImmediate), so requests whose input has
 * already arrived join too. A group commits at the latest at `maxGroupSize` members or after
 * `maxGroupMs`, and pages several members changed (the audit log's last leaf, the newest
 * sessions) are written once.
 *
 * Nothing is acknowledged early: each holder's turn ends (Kysely's `execute` resolves) only once the
 * group's COMMIT has succeeded, and fails with its error otherwise. A transaction that rolls back
 * undoes its own savepoint only. Should SQLite itself abort the group (disk full, I/O error), every
 * member fails. Readers on other connections see the group's writes at the one commit.
 */
export class GroupCommitSqliteDriver implements Driver {
  readonly #sqlite: SQLite.Database;
  readonly #database: SqliteDatabase;
  readonly #connection: SqliteConnection;
  #held = false;
  readonly #queue: (() => void)[] = [];
  #group: Group | null = null;
  #commitScheduled = false;

  constructor(sqlite: SQLite.Database, database: SqliteDatabase) {
    this.#sqlite = sqlite;
    this.#database = database;
    this.#connection = new SqliteConnection(database);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#held) {
      // Handed over directly by the releasing holder: #held stays true.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#held = true;
    }
    return this.#connection;
  }

  async beginTransaction(): Promise<void> {
    if (this.#group === null) {
      // IMMEDIATE: the group takes the write lock before its first member reads, so a later member's
      // write can never find its snapshot outdated by another process's commit (SQLITE_BUSY_SNAPSHOT).
      this.#run("begin immediate");
      this.#group = { openedAt: performance.now(), size: 0, waiters: [] };
    }
    this.#run(`savepoint ${member}`);
    this.#group.size += 1;
  }

  async commitTransaction(): Promise<void> {
    this.#run(`release ${member}`);
  }

  async rollbackTransaction(): Promise<void> {
    // When SQLite has already aborted the whole group there is no savepoint left; releaseConnection reports it.
    if (!this.#sqlite.inTransaction) return;
    this.#run(`rollback to ${member}`);
    this.#run(`release ${member}`);
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`savepoint "${name}"`);
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`rollback to "${name}"`);
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`release "${name}"`);
  }

  releaseConnection(): Promise<void> {
    const group = this.#group;
    if (group === null) {
      this.#handOff();
      return Promise.resolve();
    }
    const committed = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
    if (!this.#sqlite.inTransaction) {
      this.#endGroup(new Error("SQLite rolled back the transaction group after an error; none of its transactions was committed"));
    } else if (group.size >= maxGroupSize || performance.now() - group.openedAt >= maxGroupMs) {
      this.#endGroup(null);
    } else if (this.#queue.length === 0) {
      this.#commitSoon();
    }
    this.#handOff();
    return committed;
  }

  /**
   * Commits once the requests whose input has already arrived have had their turn: setImmediate
   * runs after the event loop's current I/O callbacks. A holder then still at work commits itself.
   */
  #commitSoon(): void {
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    setImmediate(() => {
      this.#commitScheduled = false;
      if (!this.#held) this.#endGroup(null);
    });
  }

  async destroy(): Promise<void> {
    if (this.#group !== null) this.#endGroup(null);
    this.#database.close();
  }

  /** Commits the open group (or, with `failure`, reports that SQLite lost it) and tells every member. */
  #endGroup(failure: Error | null): void {
    const group = this.#group;
    if (group === null) return;
    this.#group = null;
    let error: unknown = failure;
    if (error === null) {
      try {
        this.#run("commit");
      } catch (commitError) {
        error = commitError;
        try {
          if (this.#sqlite.inTransaction) this.#run("rollback");
        } catch {
          // The members hear of the commit's error below; a failed rollback adds nothing to tell them.
        }
      }
    }
    for (const waiter of group.waiters) {
      if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
  }

  #handOff(): void {
    const next = this.#queue.shift();
    if (next === undefined) this.#held = false;
    else next();
  }

  #run(sqlText: string): void {
    runOn(this.#database, sqlText, []);
  }
}

/** Kysely's SQLite dialect with the group-commit driver. */
export class GroupCommitSqliteDialect extends SqliteDialect {
  readonly #sqlite: SQLite.Database;
  readonly #database: SqliteDatabase;

  constructor(sqlite: SQLite.Database, database: SqliteDatabase) {
    super({ database });
    this.#sqlite = sqlite;
    this.#database = database;
  }

  override createDriver(): Driver {
    return new GroupCommitSqliteDriver(this.#sqlite, this.#database);
  }
}
