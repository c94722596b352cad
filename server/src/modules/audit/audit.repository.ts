import type { Kysely, Selectable } from "kysely";
import type { AuditEventTable, Database } from "../../db/database.js";
import { allColumns, preparedQuery } from "../../db/prepared.js";

export type AuditEventRow = Selectable<AuditEventTable>;

const insert = preparedQuery((db, row: AuditEventRow) =>
  db.insertInto("audit_event").values(
    allColumns(row, {
      id: true,
      user_id: true,
      type: true,
      ip: true,
      user_agent: true,
      detail: true,
      created_at: true,
      actor_id: true,
    }),
  ),
);

export async function insertAuditEvent(db: Kysely<Database>, row: AuditEventRow): Promise<void> {
  await insert.send(db, row);
}

/** What the administrators' audit view filters on; every field optional. */
export interface AuditFilter {
  /** Events about this user id. */
  userId?: string;
  type?: string;
  /** Unix ms, inclusive. */
  since?: number;
  /** Unix ms, exclusive. */
  until?: number;
}

export type AuditListRow = AuditEventRow & { username: string | null; actor_username: string | null };

function filtered(db: Kysely<Database>, filter: AuditFilter) {
  let query = db.selectFrom("audit_event");
  if (filter.userId !== undefined) query = query.where("audit_event.user_id", "=", filter.userId);
  if (filter.type !== undefined) query = query.where("audit_event.type", "=", filter.type);
  if (filter.since !== undefined) query = query.where("audit_event.created_at", ">=", filter.since);
  if (filter.until !== undefined) query = query.where("audit_event.created_at", "<", filter.until);
  return query;
}

/**
 * Newest first, with the username of the user and of the acting administrator. `beforeId`: only events older
 * than that one (keyset paging, for the CSV export); `offset`: for pages.
 */
export async function listAuditEvents(
  db: Kysely<Database>,
  filter: AuditFilter & { limit: number; offset?: number; beforeId?: string },
): Promise<AuditListRow[]> {
  let query = filtered(db, filter)
    .leftJoin("user", "user.id", "audit_event.user_id")
    .leftJoin("user as actor", "actor.id", "audit_event.actor_id")
    .selectAll("audit_event")
    .select(["user.username", "actor.username as actor_username"])
    .orderBy("audit_event.id", "desc")
    .limit(filter.limit);
  if (filter.beforeId !== undefined) query = query.where("audit_event.id", "<", filter.beforeId);
  if (filter.offset !== undefined && filter.offset > 0) query = query.offset(filter.offset);
  return query.execute();
}

export async function countAuditEvents(db: Kysely<Database>, filter: AuditFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

export async function deleteUserAuditEvents(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("audit_event").where("user_id", "=", userId).execute();
}
