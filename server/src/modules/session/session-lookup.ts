import type { Kysely } from "kysely";
import { sqliteReader } from "../../db/connect.js";
import type { Database } from "../../db/database.js";
import { activeSessionQuery, findActiveSession, sessionFromColumns, type ActiveSession } from "./session.repository.js";

export type ActiveSessionLookup = (id: string) => Promise<ActiveSession | undefined>;

const cacheLimit = 10_000;

/**
 * How an authenticated request finds its session.
 *
 * On a SQLite file, sessions once read stay in memory for as long as the database is unchanged. Each
 * lookup first reads SQLite's `PRAGMA data_version` on a read-only connection of its own; the value
 * changes whenever any other connection commits, whether this process's writer or another instance's,
 * and then the whole cache is dropped. A revocation, a lock or a role change is therefore seen by the
 * very next request in every process, and a request on an unchanged database runs no query. Being a
 * separate connection, the reader sees committed data only, never another request's open transaction.
 *
 * On PostgreSQL and MySQL (and SQLite `:memory:`) every lookup is one indexed query.
 */
export function createActiveSessionLookup(db: Kysely<Database>): ActiveSessionLookup {
  const reader = sqliteReader(db);
  if (reader === undefined) return (id) => findActiveSession(db, id);

  const { sql } = activeSessionQuery(db, "").compile();
  // Prepared on first use: the reader may be opened before the migrations have created the tables.
  let select: { get(id: string): unknown } | null = null;
  let dataVersion: { get(): unknown } | null = null;
  let seenVersion: unknown = null;
  const cache = new Map<string, ActiveSession>();

  return async (id) => {
    dataVersion ??= reader.prepare("PRAGMA data_version").pluck();
    const version = dataVersion.get();
    if (version !== seenVersion) {
      cache.clear();
      seenVersion = version;
    }
    const cached = cache.get(id);
    if (cached !== undefined) return cached;
    select ??= reader.prepare(sql).raw(true);
    const columns = select.get(id) as Parameters<typeof sessionFromColumns>[0] | undefined; // the columns of activeSessionQuery, in order
    if (columns === undefined) return undefined;
    const session = sessionFromColumns(columns);
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(id, session);
    return session;
  };
}
