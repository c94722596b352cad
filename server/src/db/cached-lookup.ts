import type { Compilable, Kysely } from "kysely";
import type { Database } from "./database.js";

/** Finds one row by its id; undefined when there is none. */
export type Lookup<Row> = (id: string) => Promise<Row | undefined>;

export interface CachedLookupSpec<Row> {
  /** The query, built with one parameter (the id); `fromColumns` reads its columns back, in order. */
  query: Compilable<unknown>;
  fromColumns(values: unknown[]): Row;
  /** The tables the query reads: a change to one of them empties the cache (PostgreSQL, MySQL: db/bus/). */
  tables: string[];
  /** The plain lookup through Kysely: what every call runs where nothing is cached. */
  fallback: Lookup<Row>;
}

export type CachedLookupFactory = <Row>(spec: CachedLookupSpec<Row>, now: () => number) => Lookup<Row>;

const factories = new WeakMap<Kysely<Database>, CachedLookupFactory>();

/**
 * For a database that can serve lookups from memory: a SQLite file (db/sqlite/read-cache.ts);
 * PostgreSQL and MySQL through their change bus (db/bus/cached-lookups.ts).
 */
export function serveCachedLookups(db: Kysely<Database>, factory: CachedLookupFactory): void {
  factories.set(db, factory);
}

/**
 * A lookup by id that the database may answer from memory while nothing has changed. A SQLite file
 * does (db/sqlite/README.md says what that guarantees), and so do PostgreSQL and MySQL while their
 * change bus is up (db/bus/cached-lookups.ts); otherwise, and on SQLite `:memory:`, every call is
 * `spec.fallback`, one indexed query.
 */
export function createCachedLookup<Row>(
  db: Kysely<Database>,
  spec: CachedLookupSpec<Row>,
  now: () => number = () => performance.now(),
): Lookup<Row> {
  return factories.get(db)?.(spec, now) ?? spec.fallback;
}
