import type { Kysely } from "kysely";
import { sqliteReader } from "../../db/connect.js";
import type { Database } from "../../db/database.js";
import { activeSessionQuery, findActiveSession, sessionFromColumns, type ActiveSession } from "./session.repository.js";

export type ActiveSessionLookup = (id: string) => Promise<ActiveSession | undefined>;

const cacheLimit = 10_000;
/** How long a look at `PRAGMA data_version` stays good for: the most another process's commit can go unseen. */
export const dataVersionRecheckMs = 1;

/**
 * How an authenticated request finds its session.
 *
 * On a SQLite file, sessions once read stay in memory while the database is unchanged:
 * - every write of this process (each data-changing statement, commit and rollback of its writer
 *   connection) empties the cache as soon as it has run, so the next request here sees it;
 * - a commit by another process (another instance on the same file, the CLI) changes SQLite's
 *   `PRAGMA data_version`, read at most once per millisecond, and then empties it too.
 * The reads go through a read-only connection of their own, so they see committed data only, never a
 * transaction another request has open.
 *
 * On PostgreSQL and MySQL (and SQLite `:memory:`) every lookup is one indexed query.
 */
export function createActiveSessionLookup(
  db: Kysely<Database>,
  now: () => number = () => performance.now(),
): ActiveSessionLookup {
  const reader = sqliteReader(db);
  if (reader === undefined) return (id) => findActiveSession(db, id);

  const { sql } = activeSessionQuery(db, "").compile();
  const cache = new Map<string, ActiveSession>();
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
    const columns = select.get(id) as Parameters<typeof sessionFromColumns>[0] | undefined; // the columns of activeSessionQuery, in order
    if (columns === undefined) return undefined;
    const session = sessionFromColumns(columns);
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(id, session);
    return session;
  };
}
