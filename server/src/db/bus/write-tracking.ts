import {
  AliasNode,
  DeleteQueryNode,
  InsertQueryNode,
  RawNode,
  TableNode,
  UpdateQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type OperationNode,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";

/*
 * Sees every statement a PostgreSQL or MySQL database runs and, once a change to a watched table is
 * committed (at the COMMIT of its transaction, or at once for a statement outside one), calls
 * `onCommitted` with the tables, before the transaction's `execute()` resolves: the instance that
 * revoked a session never serves it again, whichever code path wrote the row. (SQLite has its own
 * signal for this, db/sqlite/read-cache.ts.)
 */

/**
 * The tables whose rows are cached between requests, and the statements that can make a cached row
 * stale. A new session or user row cannot: a lookup that found nothing is never cached.
 */
const watched: Record<string, "any" | "update-or-delete"> = {
  session: "update-or-delete",
  user: "update-or-delete",
  policy: "any",
  signing_key: "any",
};
const watchedNames = Object.keys(watched);

function tableName(node: OperationNode | undefined): string | null {
  if (node === undefined) return null;
  if (AliasNode.is(node)) return tableName(node.node);
  return TableNode.is(node) ? node.table.identifier.name : null;
}

const readOnlySql = /^\s*(select|show|set|begin|start|commit|rollback|savepoint|release|listen|explain)\b/i;

/** The watched tables a statement may change. */
export function watchedTablesWrittenBy(query: CompiledQuery): string[] {
  const node = query.query;
  let table: string | null;
  let kind: "insert" | "update-or-delete";
  if (InsertQueryNode.is(node)) {
    table = tableName(node.into);
    kind = "insert";
  } else if (UpdateQueryNode.is(node)) {
    table = tableName(node.table);
    kind = "update-or-delete";
  } else if (DeleteQueryNode.is(node)) {
    table = tableName(node.from.froms[0]);
    kind = "update-or-delete";
  } else if (RawNode.is(node) && !readOnlySql.test(query.sql)) {
    return watchedNames; // hand-written SQL that may write: assume the worst
  } else return [];
  if (table === null) return watchedNames;
  const rule = watched[table];
  if (rule === undefined) return [];
  return rule === "any" || kind === "update-or-delete" ? [table] : [];
}

class TrackedConnection implements DatabaseConnection {
  inTransaction = false;
  pending = new Set<string>();

  constructor(
    readonly inner: DatabaseConnection,
    private readonly onCommitted: (tables: Set<string>) => void,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const tables = watchedTablesWrittenBy(query);
    if (tables.length === 0) return this.inner.executeQuery(query);
    if (this.inTransaction) {
      for (const table of tables) this.pending.add(table);
      return this.inner.executeQuery(query);
    }
    try {
      return await this.inner.executeQuery(query);
    } finally {
      this.onCommitted(new Set(tables));
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery(query, chunkSize);
  }
}

const unwrap = (connection: DatabaseConnection): DatabaseConnection =>
  connection instanceof TrackedConnection ? connection.inner : connection;

class TrackingDriver implements Driver {
  private readonly wrappers = new WeakMap<DatabaseConnection, TrackedConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly onCommitted: ((tables: Set<string>) => void) | null,
    private readonly onDestroy: () => Promise<void>,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    if (this.onCommitted === null) return connection;
    let wrapper = this.wrappers.get(connection);
    if (wrapper === undefined) {
      wrapper = new TrackedConnection(connection, this.onCommitted);
      this.wrappers.set(connection, wrapper);
    }
    return wrapper;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(unwrap(connection), settings);
    if (connection instanceof TrackedConnection) {
      connection.inTransaction = true;
      connection.pending.clear();
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(unwrap(connection));
    } finally {
      // Even a COMMIT that failed may have committed (the connection died after the server did).
      this.end(connection, true);
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(unwrap(connection));
    } finally {
      this.end(connection, false);
    }
  }

  private end(connection: DatabaseConnection, committed: boolean): void {
    if (!(connection instanceof TrackedConnection)) return;
    const tables = connection.pending;
    connection.inTransaction = false;
    connection.pending = new Set();
    if (committed && tables.size > 0) this.onCommitted?.(tables);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    await this.inner.savepoint?.(unwrap(connection), name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.inner.rollbackToSavepoint?.(unwrap(connection), name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.inner.releaseSavepoint?.(unwrap(connection), name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  async destroy(): Promise<void> {
    await this.onDestroy();
    await this.inner.destroy();
  }
}

/**
 * `dialect` with its statements watched (unless `onCommitted` is null); `onDestroy` runs when the
 * database is destroyed, before its connections close.
 */
export function trackWrites(
  dialect: Dialect,
  onCommitted: ((tables: Set<string>) => void) | null,
  onDestroy: () => Promise<void>,
): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new TrackingDriver(dialect.createDriver(), onCommitted, onDestroy),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
