import { createRequire } from "node:module";
import { Kysely, MysqlDialect, PostgresDialect, type Dialect } from "kysely";
import type * as Mysql2 from "mysql2";
import type PgModule from "pg";
import { busCachedLookups } from "./bus/cached-lookups.js";
import { attachChangeBus, createLocalBus, type ChangeBus } from "./bus/change-bus.js";
import { createPgBus } from "./bus/pg-listener.js";
import { createPollBus } from "./bus/poll.js";
import { trackWrites } from "./bus/write-tracking.js";
import { serveCachedLookups } from "./cached-lookup.js";
import type { Database } from "./database.js";
import { attachDbEvents, createDbEvents } from "./events.js";
import { createSqliteDb, type SqliteOptions } from "./sqlite/connect.js";

export type DialectName = "sqlite" | "postgres" | "mysql";

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith("sqlite:")) return "sqlite";
  if (databaseUrl.startsWith("mysql://")) return "mysql";
  return "postgres";
}

// The drivers load only for the dialect in use: an SQLite server never holds pg or mysql2 in memory.
const require = createRequire(import.meta.url);

/** Options that only SQLite uses (db/sqlite/); PostgreSQL and MySQL ignore them. */
export type DbOptions = Omit<SqliteOptions, "onCheckpointThreadDeath">;

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
  if (dialect === "mysql") {
    const { createPool } = require("mysql2") as typeof Mysql2;
    const pool = createPool({
      uri: databaseUrl,
      connectionLimit: 10,
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
    const db = new Kysely<Database>({ dialect: withBus(() => bus, new MysqlDialect({ pool })) });
    bus = createPollBus(db);
    return attachDbEvents(withCachedLookups(db, bus), events);
  }
  const pg = require("pg") as typeof PgModule;
  // PostgreSQL returns int8 as text by default; our int8 columns are Unix milliseconds, well inside 2^53.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    // No request waits past 10 s on the database (SPEC "Staying up"): 5 s for a connection (new, or
    // a free one of the pool), 10 s for a statement, and a connection left idle in a transaction is cut.
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
  });
  // An idle client whose server connection dies (a PostgreSQL restart, a proxy's idle timeout) is emitted
  // as a pool "error"; with no listener that crashes the process. The pool drops the client and the next
  // query opens a fresh connection, so there is nothing else to do (the client's own "error", below, reports it).
  pool.on("error", () => undefined);
  // A client lent out (inside a transaction, between two of its statements) whose backend is killed emits
  // "error" on itself; unheard, that would crash the process. The statement in flight, or the next one,
  // fails with the connection's error (answered 503 unavailable), and the pool drops the client on release.
  // Every client's "error" (idle or lent out) is reported once, here.
  pool.on("connect", (client) => client.on("error", (error) => events.emit("pool_error", error)));
  const bus = createPgBus(pg, databaseUrl, (channel, payload) =>
    pool.query("SELECT pg_notify($1, $2)", [channel, payload]),
  );
  const db = new Kysely<Database>({ dialect: withBus(() => bus, new PostgresDialect({ pool })) });
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
