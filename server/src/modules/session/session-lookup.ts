import type { Kysely } from "kysely";
import { createCachedLookup, type Lookup } from "../../db/cached-lookup.js";
import type { Database } from "../../db/database.js";
import {
  activeSessionQuery,
  findActiveSession,
  sessionFromColumns,
  type ActiveSession,
  type ActiveSessionColumns,
} from "./active-session.repository.js";

export type ActiveSessionLookup = Lookup<ActiveSession>;

/**
 * How an authenticated request finds its session. On a SQLite file, sessions once read stay in
 * memory while the database is unchanged (db/sqlite/read-cache.ts: a revocation is seen by the next
 * request of the instance that made it, and within a millisecond by other processes). On PostgreSQL
 * and MySQL they stay in memory while the change bus is up (db/bus/cached-lookups.ts: the next
 * request of the instance that made a change sees it, other instances within a second); while it is
 * down every lookup is one indexed query.
 */
export function createActiveSessionLookup(db: Kysely<Database>): ActiveSessionLookup {
  return createCachedLookup(db, {
    query: activeSessionQuery(db, ""),
    tables: ["session", "user", "policy"],
    // The columns of activeSessionQuery, in order.
    fromColumns: (values) => sessionFromColumns(values as ActiveSessionColumns),
    fallback: (id) => findActiveSession(db, id),
  });
}
