import { createRequire } from "node:module";
import { Kysely, MysqlDialect, PostgresDialect, type Dialect } from "kysely";
import type * as Mysql2 from "mysql2";
import { busCachedLookups } from "./bus/cached-lookups.js";
import { attachChangeBus, createLocalBus, type ChangeBus } from "./bus/change-bus.js";
import { createPgBus } from "./bus/pg-listener.js";
import { createPollBus } from "./bus/poll.js";
import { trackWrites } from "./bus/write-tracking.js";
import { serveCachedLookups } from "./cached-lookup.js";
import type { Database } from "./database.js";
import { attachDbEvents, createDbEvents } from "./events.js";
import { pipelining } from "./pipeline.js";
import { createPostgresPool, defaultPoolSize, loadPg, statementLog } from "./postgres.js";
import { createSqliteDb, dropSqliteStatements, releaseSqliteMemory, type SqliteOptions } from "./sqlite/connect.js";

export type DialectName = "sqlite" | "postgres" | "mysql";

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith("sqlite:")) return "sqlite";
  if (databaseUrl.startsWith("mysql://")) return "mysql";
  return "postgres";
}

// The drivers load only for the dialect in use: an SQLite server never holds pg or mysql2 in memory.
const require = createRequire(import.meta.url);

/** SQLite's options (db/sqlite/; PostgreSQL and MySQL ignore them but onStatement), and the pool's. */
export type DbOptions = Omit<SqliteOptions, "onCheckpointThreadDeath" | "onStatement"> & {
  /** PostgreSQL and MySQL: connections in the pool (DATABASE_POOL_SIZE); default db/postgres.ts defaultPoolSize. */
  poolSize?: number;
  /**
   * Called with the SQL text of every statement sent to the database, transaction control included:
   * for the tests that bound the statements per request, and the bench. Costs nothing when absent.
   */
  onStatement?: (sql: string) => void;
};

/**
 * One Kysely<Database> whatever the dialect: everything above this file sees only that interface.
 * Connection errors and the checkpoint thread's death are reported through dbEventsOf(db) (db/events.ts).
 * Each comes with its change bus (db/bus/change-bus.ts), closed when the database is destroyed;
 * on PostgreSQL and MySQL the bus also hears every committed write and empties the cached lookups.
 */
export function createDb(databaseUrl: string, options: DbOptions = {}): Kysely<Database> {
  const dialect = dialectOf(databaseUrl);
  const events = createDbEvents();
  if (dialect === "sqlite") {
    const path = databaseUrl.slice("sqlite:".length) || ":memory:";
    let bus: ChangeBus = createLocalBus();
    const db = createSqliteDb(
      path,
      { ...options, onCheckpointThreadDeath: (error) => events.emit("checkpoint_thread_died", error) },
      (inner) => trackWrites(inner, null, () => bus.close()),
    );
    // Only the signing keys travel on it: the session cache has SQLite's own signal (db/sqlite/read-cache.ts).
    if (path !== ":memory:") bus = createPollBus(db);
    attachChangeBus(db, bus);
    return attachDbEvents(db, events);
  }
  const poolSize = options.poolSize ?? defaultPoolSize();
  if (dialect === "mysql") {
    const { createPool } = require("mysql2") as typeof Mysql2;
    const pool = createPool({
      uri: databaseUrl,
      connectionLimit: poolSize,
      supportBigNumbers: true,
      bigNumberStrings: false,
      // An unreachable server fails a request within seconds instead of at the OS's TCP timeout.
      connectTimeout: 5_000,
      enableKeepAlive: true,
    });
    // A pooled connection the server closes (killed, the server gone) emits "end", and "error" unless a
    // query of its own heard the error; the pool drops it. Reported once per connection, whichever comes.
    pool.on("connection", (connection) => {
      let reported = false;
      const report = (error: unknown): void => {
        if (!reported) events.emit("pool_error", error);
        reported = true;
      };
      connection.on("error", report);
      connection.on("end", () =>
        report(Object.assign(new Error("The server closed the connection."), { code: "PROTOCOL_CONNECTION_LOST" })),
      );
    });
    let bus: ChangeBus | null = null;
    const db = new Kysely<Database>({
      dialect: withBus(() => bus, new MysqlDialect({ pool })),
      ...statementLog(options.onStatement),
    });
    bus = createPollBus(db);
    return attachDbEvents(withCachedLookups(db, bus), events);
  }
  const pool = createPostgresPool(databaseUrl, poolSize, (error) => events.emit("pool_error", error));
  const bus = createPgBus(loadPg(), databaseUrl, (channel, payload) =>
    pool.query("SELECT pg_notify($1, $2)", [channel, payload]),
  );
  const db = new Kysely<Database>({
    dialect: withBus(() => bus, pipelining(new PostgresDialect({ pool }))),
    ...statementLog(options.onStatement),
  });
  return attachDbEvents(withCachedLookups(db, bus), events);
}

/** `dialect` telling `bus()` of every committed change, and closing it when the database is destroyed. */
function withBus(bus: () => ChangeBus | null, dialect: Dialect): Dialect {
  return trackWrites(
    dialect,
    (tables) => bus()?.publish(tables),
    async () => bus()?.close(),
  );
}

function withCachedLookups(db: Kysely<Database>, bus: ChangeBus): Kysely<Database> {
  attachChangeBus(db, bus);
  serveCachedLookups(db, busCachedLookups(bus));
  return db;
}

/**
 * Hands back memory the database's connections keep only for speed, when the server is quiet (heap-compactor.ts):
 * SQLite's page caches. PostgreSQL's and MySQL's drivers keep no such cache in this process.
 */
export function releaseIdleDbMemory(db: Kysely<Database>): void {
  releaseSqliteMemory(db);
}

/** Drops compiled statements kept for speed (SQLite's statement cache), for a server that has stayed idle. */
export function dropIdleDbStatements(db: Kysely<Database>): void {
  dropSqliteStatements(db);
}
