import type SQLite from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

const statementCacheSize = 500;

/**
 * A statement that changes data or ends a transaction: once it has run, readers must not trust what
 * they read before.
 */
function endsWrite(sqlText: string, statement: SQLite.Statement): boolean {
  return !statement.readonly || /^\s*(commit|end|rollback|release)\b/i.test(sqlText);
}

/**
 * Kysely prepares every query anew; preparing costs more than running our small indexed queries.
 * Queries are built from a fixed set of shapes, so caching statements by their SQL text is bounded.
 * Statements that write report to `afterWrite` once they have run.
 */
export function withStatementCache(
  sqlite: SQLite.Database,
  reader: SQLite.Database | null,
  afterWrite: () => void,
  onClose: () => void,
  onStatement?: (sql: string) => void,
): SqliteDatabase & { forgetStatements(): void } {
  const statements = new Map<string, SqliteStatement>();
  return {
    // Each statement is finalized, and its memory freed, once nothing holds it (the next GC); a statement
    // in use right now finishes first. The next query of each shape prepares it again.
    forgetStatements: () => statements.clear(),
    close: () => {
      onClose();
      reader?.close();
      sqlite.close();
    },
    prepare(sqlText: string) {
      // Every statement run on the connection is fetched here first (connection.ts runOn).
      onStatement?.(sqlText);
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
