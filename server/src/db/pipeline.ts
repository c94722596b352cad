import {
  CompiledQuery,
  type Kysely,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { Database } from "./database.js";

/*
 * Statements sent ahead, for PostgreSQL: inside a transaction, a write whose reply its caller does not
 * need (a new session, an audit event) goes out at once and the caller goes on; the statements after it
 * follow on the same connection without waiting (pg's pipeline mode), and its outcome is taken with the
 * reply of the next statement the transaction waits for, COMMIT at the latest. A login's four INSERTs
 * and its COMMIT are one round trip instead of five; BEGIN rides along with the transaction's first
 * statement.
 *
 * Nothing commits that would not have committed had each statement been awaited: a statement sent ahead
 * that fails aborts the PostgreSQL transaction, so every later statement fails and COMMIT rolls back;
 * the caller hears the first failure (the cause, not "current transaction is aborted") from the next
 * statement it waits for, or from `commit`. The only difference is when an error is heard, so only
 * writes whose failure no caller handles (no expected unique violation) are sent ahead
 * (db/prepared.ts: `send`, and `sendForReply`, whose caller takes the reply later).
 * Outside a transaction, and on SQLite and MySQL, a statement sent ahead is simply run and awaited.
 */

const sentAhead = new WeakSet<CompiledQuery>();

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The replies of statements sent ahead, for a caller that takes its reply later (`replyTo`). */
const replies = new WeakMap<CompiledQuery, Promise<Settled<unknown>>>();

/** Marks `query` as one its caller does not wait for (see above); returns it. */
export function markSentAhead<Q extends CompiledQuery>(query: Q): Q {
  sentAhead.add(query);
  return query;
}

/** Runs `sqlText`, a statement without parameters whose reply nobody needs (a SAVEPOINT), sent ahead. */
export async function sendRawAhead(executor: Kysely<Database>, sqlText: string): Promise<void> {
  await executor.executeQuery(markSentAhead(CompiledQuery.raw(sqlText)));
}

/**
 * The reply of `query` when it was sent ahead; undefined when it ran as usual (outside a transaction,
 * or not on PostgreSQL), and the result Kysely returned is its reply.
 */
export async function replyTo<R>(query: CompiledQuery): Promise<QueryResult<R> | undefined> {
  const reply = replies.get(query);
  return reply === undefined ? undefined : (valueOf(await reply) as QueryResult<R>);
}

const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

function valueOf<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error;
  return settled.value;
}

const noRows: QueryResult<never> = { rows: [] };

class PipelinedConnection implements DatabaseConnection {
  inTransaction = false;
  /** Replies of the statements sent ahead and not yet taken, in the order sent. */
  ahead: Promise<Settled<unknown>>[] = [];
  /** The first statement sent ahead that failed in this transaction. */
  failure: Settled<unknown> | undefined;

  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction && sentAhead.has(query)) {
      const reply = settle(this.inner.executeQuery(query)).then((settled) => {
        if (settled.ok) return settled;
        // Behind a failure PostgreSQL only answers "current transaction is aborted": tell the cause.
        this.failure ??= settled;
        return this.failure;
      });
      this.ahead.push(reply);
      replies.set(query, reply);
      return noRows;
    }
    const reply = settle(this.inner.executeQuery<R>(query));
    await this.takeAhead();
    const settled = await reply;
    if (!settled.ok && this.inTransaction) this.failure ??= settled;
    return valueOf(settled);
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery(query, chunkSize);
  }

  /** Waits for every statement sent ahead; throws the first one's error, if any failed. */
  async takeAhead(): Promise<void> {
    if (this.ahead.length === 0) return;
    const replies = await Promise.all(this.ahead);
    this.ahead = [];
    for (const reply of replies) valueOf(reply);
  }
}

class PipeliningDriver implements Driver {
  readonly #wrappers = new WeakMap<DatabaseConnection, PipelinedConnection>();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapper = this.#wrappers.get(connection);
    if (wrapper === undefined) {
      wrapper = new PipelinedConnection(connection);
      this.#wrappers.set(connection, wrapper);
    }
    return wrapper;
  }

  /**
   * A plain BEGIN is sent ahead: its reply is taken with the first statement's. (BEGIN fails only on a
   * connection that is gone, and then so does every statement behind it.)
   */
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const pipelined = connection as PipelinedConnection;
    if (settings.isolationLevel !== undefined || settings.accessMode !== undefined) {
      await this.inner.beginTransaction(pipelined, settings);
    } else {
      pipelined.ahead.push(settle(pipelined.inner.executeQuery(CompiledQuery.raw("begin"))));
    }
    pipelined.failure = undefined;
    pipelined.inTransaction = true;
  }

  /**
   * COMMIT goes out behind the statements sent ahead, whose failure makes PostgreSQL roll back instead.
   * A transaction in which a statement is already known to have failed is rolled back, not committed,
   * even when its caller went on after the error (PostgreSQL would turn that COMMIT into a ROLLBACK
   * without an error, and pg answers a value it cannot encode without sending the statement at all).
   */
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const pipelined = connection as PipelinedConnection;
    const failure = pipelined.failure;
    if (failure !== undefined) {
      await this.rollbackTransaction(pipelined);
      valueOf(failure);
    }
    pipelined.inTransaction = false;
    await pipelined.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const pipelined = connection as PipelinedConnection;
    pipelined.inTransaction = false;
    const reply = settle(pipelined.inner.executeQuery(CompiledQuery.raw("rollback")));
    // What was sent ahead is undone with the rest; its errors were heard, or are moot now.
    await settle(pipelined.takeAhead());
    valueOf(await reply);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    await this.inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.inner.releaseSavepoint?.(connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const pipelined = connection as PipelinedConnection;
    // Never the case after a commit or rollback; a connection goes back to the pool with nothing in flight.
    await settle(pipelined.takeAhead());
    return this.inner.releaseConnection(pipelined.inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** `dialect` (PostgreSQL, on a pool of pipelining clients) with statements sent ahead in transactions. */
export function pipelining(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new PipeliningDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
