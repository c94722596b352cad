import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `session.auth_time`: when the person last proved a factor (Unix milliseconds), for re-authentication
// (SPEC "Re-authentication"). Sessions from before it took their last proof at sign-in, their creation.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("session")
    .addColumn("auth_time", "bigint", (col) => col.notNull().defaultTo(0))
    .execute();
  await db
    .updateTable("session")
    .set((eb) => ({ auth_time: eb.ref("created_at") }))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("session").dropColumn("auth_time").execute();
}
