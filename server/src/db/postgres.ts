import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import type { Duplex } from "node:stream";
import type { KyselyConfig } from "kysely";
import type PgModule from "pg";
import { preparedStatementName } from "./prepared.js";

// pg loads only when the database is PostgreSQL: an SQLite server never holds it in memory.
const require = createRequire(import.meta.url);

/**
 * Connections per pool when DATABASE_POOL_SIZE is not set: enough to keep every core of this process
 * and one round trip of the database busy (HikariCP's "cores × 2 + 1"), not so many that a small
 * database server spends its cores switching between backends.
 */
export function defaultPoolSize(): number {
  return availableParallelism() * 2 + 1;
}

const corked = new WeakSet<Duplex>();

/**
 * Holds a client's socket writes until the event loop's check phase (setImmediate: after the promise
 * callbacks of the request at hand). pg writes each message of a query (Bind, Describe, Execute,
 * Sync) on its own, and every write to the socket is a system call that, on loopback, also wakes the
 * server; corked, a query and the statements sent ahead of it (db/pipeline.ts) leave in one.
 */
function corkUntilChecked(client: PgModule.Client): void {
  const stream = (client as unknown as { connection?: { stream?: Duplex } }).connection?.stream;
  if (stream === undefined || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork();
  });
}

/**
 * A pg Client that sends the queries compiled once by `preparedQuery` (db/prepared.ts) as named
 * statements: each connection parses and plans them once, then only binds and executes. Any other
 * query is sent as before (an unnamed statement), so the set of names a connection holds is bounded
 * by the prepared queries in the code.
 */
function preparingClient(pg: typeof PgModule): typeof PgModule.Client {
  class PreparingClient extends pg.Client {}
  const send = pg.Client.prototype.query as (this: PgModule.Client, ...args: unknown[]) => unknown;
  // One override for pg's many overloads; Kysely calls query(text, values) and awaits the promise.
  PreparingClient.prototype.query = function (this: PgModule.Client, ...args: unknown[]) {
    corkUntilChecked(this);
    const [text, values] = args;
    if (args.length === 2 && typeof text === "string" && Array.isArray(values)) {
      const name = preparedStatementName(text);
      if (name !== undefined) return send.call(this, { name, text, values });
    }
    return send.apply(this, args);
  } as PgModule.Client["query"];
  return PreparingClient;
}

/** pg, loaded on first use (the change bus's listener needs it too). */
export function loadPg(): typeof PgModule {
  return require("pg") as typeof PgModule;
}

/**
 * A pool of `max` connections whose clients use named statements for prepared queries; every client's
 * "error" (idle or lent out) is reported once, to `onClientError`.
 */
export function createPostgresPool(
  databaseUrl: string,
  max: number,
  onClientError: (error: unknown) => void,
): PgModule.Pool {
  const pg = loadPg();
  // PostgreSQL returns int8 as text by default; our int8 columns are Unix milliseconds, well inside 2^53.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    Client: preparingClient(pg),
    max,
    // Statements go out without waiting for the reply of the one before (db/pipeline.ts sends some ahead).
    pipeline: true,
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
  pool.on("connect", (client) => client.on("error", onClientError));
  return pool;
}

/** Kysely's `log` hook reporting each statement sent (BEGIN and COMMIT included), or none (PostgreSQL, MySQL). */
export function statementLog(onStatement?: (sql: string) => void): Pick<KyselyConfig, "log"> {
  if (onStatement === undefined) return {};
  return {
    // A statement that failed made its round trip too.
    log: (event) => onStatement(event.query.sql),
  };
}
