import { createRequire } from "node:module";
import { Kysely, MysqlDialect, PostgresDialect } from "kysely";
import type * as Mysql2 from "mysql2";
import type { Database } from "./database.js";
import { createPostgresPool, defaultPoolSize, statementLog } from "./postgres.js";
import { createSqliteDb, type SqliteOptions } from "./sqlite/connect.js";

export type DialectName = "sqlite" | "postgres" | "mysql";

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith("sqlite:")) return "sqlite";
  if (databaseUrl.startsWith("mysql://")) return "mysql";
  return "postgres";
}

// The drivers load only for the dialect in use: an SQLite server never holds pg or mysql2 in memory.
const require = createRequire(import.meta.url);

export type DbOptions = SqliteOptions & {
  /** PostgreSQL and MySQL: connections in the pool (DATABASE_POOL_SIZE); default db/postgres.ts defaultPoolSize. */
  poolSize?: number;
  /**
   * Called with the SQL text of every statement sent to the database, transaction control included:
   * for the tests that bound the statements per request, and the bench. Costs nothing when absent.
   */
  onStatement?: (sql: string) => void;
};

/** One Kysely<Database> whatever the dialect: everything above this file sees only that interface. */
export function createDb(databaseUrl: string, options: DbOptions = {}): Kysely<Database> {
  const dialect = dialectOf(databaseUrl);
  if (dialect === "sqlite") return createSqliteDb(databaseUrl.slice("sqlite:".length) || ":memory:", options);
  const poolSize = options.poolSize ?? defaultPoolSize();
  if (dialect === "mysql") {
    const { createPool } = require("mysql2") as typeof Mysql2;
    return new Kysely<Database>({
      dialect: new MysqlDialect({
        pool: createPool({
          uri: databaseUrl,
          connectionLimit: poolSize,
          supportBigNumbers: true,
          bigNumberStrings: false,
          // An unreachable server fails a request within seconds instead of at the OS's TCP timeout.
          connectTimeout: 5_000,
          enableKeepAlive: true,
        }),
      }),
      ...statementLog(options.onStatement),
    });
  }
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPostgresPool(databaseUrl, poolSize) }),
    ...statementLog(options.onStatement),
  });
}
