import type SQLite from "better-sqlite3";
import type { Kysely } from "kysely";
import { serveCachedLookups, type CachedLookupSpec, type Lookup } from "../cached-lookup.js";
import type { Database } from "../database.js";

export interface SqliteReader {
  /** A read-only connection to the same file: it sees committed data only, never a transaction the writer has open. */
  connection: SQLite.Database;
  /** `listener` runs after every statement of this process's writer that changes data or ends a transaction. */
  onWrite(listener: () => void): void;
}

const readers = new WeakMap<Kysely<Database>, SqliteReader>();

/** The reader of a SQLite file database; none for `:memory:`, PostgreSQL or MySQL. */
export function sqliteReader(db: Kysely<Database>): SqliteReader | undefined {
  return readers.get(db);
}

const cacheLimit = 10_000;
/** How long a look at `PRAGMA data_version` stays good for: the most another process's commit can go unseen. */
export const dataVersionRecheckMs = 1;

/** Makes `reader` the database's: its cached lookups (db/cached-lookup.ts) are served through it from memory. */
export function serveFromReader(db: Kysely<Database>, reader: SqliteReader): void {
  readers.set(db, reader);
  serveCachedLookups(db, (spec, now) => readerLookup(reader, spec, now));
}

/**
 * Rows once read stay in memory while the database is unchanged:
 * - every write of this process (each data-changing statement, commit and rollback of its writer
 *   connection) empties the cache as soon as it has run, so the next lookup here sees it;
 * - a commit by another process (another instance on the same file, the CLI) changes SQLite's
 *   `PRAGMA data_version`, read at most once per `dataVersionRecheckMs`, and then empties it too.
 * The reads go through the read-only connection, so they see committed data only, never a
 * transaction another request has open.
 */
function readerLookup<Row>(reader: SqliteReader, spec: CachedLookupSpec<Row>, now: () => number): Lookup<Row> {
  const { sql } = spec.query.compile();
  const cache = new Map<string, Row>();
  reader.onWrite(() => cache.clear());
  // Prepared on first use: the reader may be opened before the migrations have created the tables.
  let select: { get(id: string): unknown } | null = null;
  let dataVersion: { get(): unknown } | null = null;
  let seenVersion: unknown = null;
  let checkedAt = -Infinity;

  return async (id) => {
    const at = now();
    if (at - checkedAt >= dataVersionRecheckMs) {
      dataVersion ??= reader.connection.prepare("PRAGMA data_version").pluck();
      const version = dataVersion.get();
      checkedAt = at;
      if (version !== seenVersion) {
        cache.clear();
        seenVersion = version;
      }
    }
    const cached = cache.get(id);
    if (cached !== undefined) return cached;
    select ??= reader.connection.prepare(sql).raw(true);
    const columns = select.get(id) as unknown[] | undefined; // raw(true): the row as an array of its columns
    if (columns === undefined) return undefined;
    const row = spec.fromColumns(columns);
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(id, row);
    return row;
  };
}
