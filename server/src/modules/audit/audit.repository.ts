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
    }),
  ),
);

export async function insertAuditEvent(db: Kysely<Database>, row: AuditEventRow): Promise<void> {
  await insert.execute(db, row);
}

export async function listAuditEvents(
  db: Kysely<Database>,
  filter: { userId?: string; limit: number },
): Promise<(AuditEventRow & { username: string | null })[]> {
  let query = db
    .selectFrom("audit_event")
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
