import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `change_version`: the change bus on MySQL and SQLite (db/bus/poll.ts): one version per table name,
// incremented after a change other instances must hear of, read by every instance four times a second.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("change_version")
    .addColumn("topic", "varchar(64)", (col) => col.primaryKey())
    .addColumn("version", "bigint", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("change_version").execute();
}
