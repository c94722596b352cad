import type SQLite from "better-sqlite3";
import {
  createQueryId,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type SqliteDatabase,
} from "kysely";
import { runOn, savepointCommand, SqliteConnection } from "./connection.js";

/** Most transactions one commit carries. */
export const maxGroupSize = 32;
/**
 * Longest a group stays open while more transactions keep joining it (the first one's reply waits
 * this long at most).
 */
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

/**
 * Group commit for the one SQLite connection. A commit writes every page its transaction changed to
 * the WAL; under load that was about a quarter of a two-factor login's main-thread time. Here each
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
  #held = false;
  readonly #queue: (() => void)[] = [];
  #group: Group | null = null;
  #commitScheduled = false;
  /** Milliseconds, for the group's age (`maxGroupMs`); the tests pass a clock of their own. */
  readonly #now: () => number;

  constructor(sqlite: SQLite.Database, database: SqliteDatabase, now: () => number = () => performance.now()) {
    this.#sqlite = sqlite;
    this.#database = database;
    this.#now = now;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#held) {
      // Handed over directly by the releasing holder: #held stays true.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#held = true;
    }
    return new SqliteConnection(this.#database);
  }

  async beginTransaction(): Promise<void> {
    if (this.#group === null) {
      // IMMEDIATE: the group takes the write lock before its first member reads, so a later member's
      // write can never find its snapshot outdated by another process's commit (SQLITE_BUSY_SNAPSHOT).
      this.#run("begin immediate");
      this.#group = { openedAt: this.#now(), size: 0, waiters: [] };
    }
    this.#run(`savepoint ${member}`);
    this.#group.size += 1;
  }

  /**
   * Resolves once the group's COMMIT has succeeded. The connection passes on here, not at release:
   * a controlled transaction (`startTransaction`) releases its connection only after `commit()` has
   * resolved, and the group must be able to grow meanwhile.
   */
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#run(`release ${member}`);
    (connection as SqliteConnection).handedOff = true;
    return this.#endTurn();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // After a failed group COMMIT the connection is another holder's: there is nothing of this one's left to undo.
    if ((connection as SqliteConnection).handedOff) return;
    // When SQLite has already aborted the whole group there is no savepoint left; releaseConnection reports it.
    if (!this.#sqlite.inTransaction) return;
    this.#run(`rollback to ${member}`);
    this.#run(`release ${member}`);
  }

  // A caller's own savepoints inside a transaction; the name is compiled as an identifier, as Kysely's driver does.
  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand("savepoint", name), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand("rollback to", name), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand("release", name), createQueryId()));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return (connection as SqliteConnection).handedOff ? Promise.resolve() : this.#endTurn();
  }

  /** Passes the connection on; resolves once the holder's writes are committed (at once outside a group). */
  #endTurn(): Promise<void> {
    const group = this.#group;
    if (group === null) {
      this.#handOff();
      return Promise.resolve();
    }
    const committed = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
    if (!this.#sqlite.inTransaction) {
      this.#endGroup(
        new Error("SQLite rolled back the transaction group after an error; none of its transactions was committed"),
      );
    } else if (group.size >= maxGroupSize || this.#now() - group.openedAt >= maxGroupMs) {
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
  readonly #now: (() => number) | undefined;

  /** `now`: milliseconds for the group's age, `performance.now` unless a test brings its own clock. */
  constructor(sqlite: SQLite.Database, database: SqliteDatabase, now?: () => number) {
    super({ database });
    this.#sqlite = sqlite;
    this.#database = database;
    this.#now = now;
  }

  override createDriver(): Driver {
    return new GroupCommitSqliteDriver(this.#sqlite, this.#database, this.#now);
  }
}
