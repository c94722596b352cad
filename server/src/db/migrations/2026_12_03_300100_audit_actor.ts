import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `audit_event.actor_id`: who did it when that is not the user the event is about (an administrator acting on
// an account, SPEC §2 "Admin and policy"); NULL for a person's own actions. Indexes for the admin audit filters.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_event").addColumn("actor_id", "varchar(32)").execute();
  await db.schema.createIndex("audit_event_type_idx").on("audit_event").columns(["type", "id"]).execute();
  await db.schema.createIndex("audit_event_created_at_idx").on("audit_event").column("created_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ["audit_event_created_at_idx", "audit_event_type_idx"]) {
    try {
      await db.schema.dropIndex(index).execute(); // SQLite and PostgreSQL
    } catch {
      await db.schema.dropIndex(index).on("audit_event").execute(); // MySQL names the index's table
    }
  }
  await db.schema.alterTable("audit_event").dropColumn("actor_id").execute();
}
