import {
  IdentifierNode,
  RawNode,
  SelectQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
  type SqliteDatabase,
} from "kysely";

/** Runs a query on the single connection, as Kysely's SQLite connection does (statements come from the cache). */
export function runOn(database: SqliteDatabase, sqlText: string, parameters: readonly unknown[]): QueryResult<unknown> {
  const statement = database.prepare(sqlText);
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/** `command "name"` with the name escaped by the query compiler. */
export function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

/** One holder's turn on the single connection (a new one per acquire). */
export class SqliteConnection implements DatabaseConnection {
  /** Its transaction committed and passed the connection on: its release has nothing left to do. */
  handedOff = false;

  constructor(private readonly database: SqliteDatabase) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(runOn(this.database, compiledQuery.sql, compiledQuery.parameters) as QueryResult<R>);
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error("SQLite streams SELECT queries only");
    for (const row of this.database.prepare(compiledQuery.sql).iterate(compiledQuery.parameters))
      yield { rows: [row as R] };
  }
}
