import { createQueryId, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from "kysely";
import type { Database } from "./database.js";
import { executorKey } from "./kysely-internals.js";
import { markSentAhead, replyTo } from "./pipeline.js";

const misused = (name: string): Error =>
  new Error(
    `prepared query: the value "${name}" was used in the query's construction ` +
      "instead of being placed as a parameter",
  );

/** Stands in for a named value while a prepared query is compiled; computing with it throws. */
class Slot {
  constructor(readonly name: string) {}

  [Symbol.toPrimitive](): never {
    throw misused(this.name);
  }
}

interface Compiled {
  template: CompiledQuery;
  /** Per parameter: the named value, or the constant the query was built with. */
  binds: ((values: Record<string, unknown>) => unknown)[];
}

/** Runs a compiled statement at once on the connection a transaction holds. */
export type HeldConnectionRunner = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>;

const heldConnectionRunners = new WeakMap<object, HeldConnectionRunner>();

/**
 * For a database whose transactions hold its only connection (SQLite, db/sqlite/connect.ts): prepared
 * queries run inside a transaction go straight to `run`, past Kysely's per-query connection hand-off.
 * Outside a transaction they still queue on Kysely's lock, so they never land inside another
 * request's transaction.
 */
export function runPreparedInTransactions(db: Kysely<Database>, run: HeldConnectionRunner): void {
  heldConnectionRunners.set(executorKey(db), run);
}

/** Names of the compiled SQL texts (one per prepared query and dialect: a bounded set). */
const statementNames = new Map<string, string>();

/**
 * The name under which a driver that keeps server-side prepared statements may send this SQL text
 * (db/postgres.ts); undefined for SQL no prepared query compiled to.
 */
export function preparedStatementName(sqlText: string): string | undefined {
  return statementNames.get(sqlText);
}

export interface PreparedQuery<P extends Record<string, unknown>, R> {
  execute(executor: Kysely<Database>, values: P): Promise<QueryResult<R>>;
  /**
   * For a write whose reply the caller does not need and whose failure no caller handles: inside a
   * PostgreSQL transaction it is sent ahead (db/pipeline.ts), its outcome taken with the next statement's
   * reply or at COMMIT; everywhere else the same as `execute`.
   */
  send(executor: Kysely<Database>, values: P): Promise<void>;
  /**
   * `execute` for a statement that need not wait for the one before it: inside a PostgreSQL transaction
   * it is sent ahead, and the promise (call it, go on, await it later) resolves with its reply. Its
   * failure is also heard by the transaction's next statement, so handle failures by rolling back.
   */
  sendForReply(executor: Kysely<Database>, values: P): Promise<QueryResult<R>>;
}

/**
 * A query that Kysely builds and compiles once per database, then runs with new values each time.
 * Building and compiling Kysely's operation tree costs more than running one of our small indexed
 * statements, and a login runs about a dozen of them.
 *
 * `build` receives stand-ins for the values. It may only place them in the query, never compute
 * with them or branch on them. Compiling checks this: arithmetic, string building or comparison
 * with a stand-in throws, and so does a stand-in that does not reach the query's parameters.
 * (Branching on a stand-in's truthiness cannot be detected: it is always truthy.)
 *
 * The compiled form is kept per database (db/kysely-internals.ts: a database and its transactions
 * share one key). Builds must not depend on `withSchema` or plugins, which share the key too.
 */
export function preparedQuery<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Database>, values: P) => Compilable<R>,
): PreparedQuery<P, R> {
  // One compiled form per database: a transaction shares its database's key.
  const compiledFor = new WeakMap<object, Compiled>();

  function compile(executor: Kysely<Database>): Compiled {
    const requested = new Set<string>();
    const standIns = new Proxy(
      {},
      {
        get(_target, name) {
          if (typeof name !== "string") return undefined;
          requested.add(name);
          return new Slot(name);
        },
      },
    ) as P;
    const template = build(executor, standIns).compile();
    const placed = new Set<string>();
    const binds = template.parameters.map((parameter): Compiled["binds"][number] => {
      if (!(parameter instanceof Slot)) return () => parameter;
      placed.add(parameter.name);
      return (values) => values[parameter.name];
    });
    for (const name of requested) {
      if (!placed.has(name)) throw misused(name);
    }
    if (!statementNames.has(template.sql)) statementNames.set(template.sql, `tessera_${statementNames.size + 1}`);
    return { template, binds };
  }

  /** ahead: "send", sent ahead and not waited for; "reply", sent ahead and its reply returned. */
  async function run(executor: Kysely<Database>, values: P, ahead?: "send" | "reply"): Promise<QueryResult<R>> {
    const key = executorKey(executor);
    let compiled = compiledFor.get(key);
    if (compiled === undefined) {
      compiled = compile(executor);
      compiledFor.set(key, compiled);
    }
    const parameters = compiled.binds.map((bind) => bind(values));
    if (executor.isTransaction) {
      const runHeld = heldConnectionRunners.get(key);
      if (runHeld !== undefined) return runHeld(compiled.template.sql, parameters) as QueryResult<R>;
    }
    const query = { ...compiled.template, queryId: createQueryId(), parameters } as CompiledQuery<R>;
    if (ahead === undefined) return executor.executeQuery(query);
    const result = await executor.executeQuery(markSentAhead(query));
    return ahead === "reply" ? ((await replyTo<R>(query)) ?? result) : result;
  }

  return {
    execute: (executor, values) => run(executor, values),
    async send(executor, values) {
      await run(executor, values, "send");
    },
    sendForReply(executor, values) {
      const reply = run(executor, values, "reply");
      // Awaited later by the caller, maybe after a failure elsewhere ended its transaction: never unhandled.
      reply.catch(() => undefined);
      return reply;
    },
  };
}

/** Rows an UPDATE or DELETE matched (as Kysely's own builders report it). */
export function affectedRows(result: QueryResult<unknown>): bigint {
  return result.numAffectedRows ?? 0n;
}

/**
 * Every column of a row as stand-ins, for the `.values()` of a prepared INSERT (a Proxy has no keys
 * to copy). `columns` is a Record so that the compiler names any column left out.
 */
export function allColumns<T extends Record<string, unknown>>(values: T, columns: Record<keyof T, true>): T {
  return Object.fromEntries(Object.keys(columns).map((column) => [column, values[column]])) as T;
}
