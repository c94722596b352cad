import type { Kysely, Selectable } from "kysely";
import type { AuditEventTable, Database } from "../../db/database.js";

export type AuditEventRow = Selectable<AuditEventTable>;

export async function insertAuditEvent(db: Kysely<Database>, row: AuditEventRow): Promise<void> {
  await db.insertInto("audit_event").values(row).execute();
}

export async function listAuditEvents(db: Kysely<Database>, filter: { userId?: string; limit: number }): Promise<(AuditEventRow & { username: string | null })[]> {
  let query = db.selectFrom("audit_event")
    .leftJoin("user", "user.id", "audit_event.user_id")
    .selectAll("audit_event")
    .select("user.username")
    .orderBy("audit_event.id", "desc")
    .limit(filter.limit);
  if (filter.userId !== undefined) query = query.where("audit_event.user_id", "=", filter.userId);
  return query.execute();
}

export async function deleteUserAuditEvents(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("audit_event").where("user_id", "=", userId).execute();
}
