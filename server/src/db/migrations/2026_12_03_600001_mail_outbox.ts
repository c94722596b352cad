import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `mail_outbox`: mail written in the transaction of the change that causes it and sent by a worker in
// every instance (SPEC "Mail is never lost"). The message (recipient, subject, bodies with their links)
// is stored encrypted with the app key, bound to its row; a sent message keeps it only where the
// development outbox reads it back.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("mail_outbox")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("body_ciphertext", "text")
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("next_attempt_at", "bigint", (col) => col.notNull())
    .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("claimed_by", "varchar(32)")
    .addColumn("sent_at", "bigint")
    .addColumn("failed_at", "bigint")
    .addColumn("last_error", "varchar(255)")
    .execute();
  await db.schema.createIndex("mail_outbox_next_attempt_at_idx").on("mail_outbox").column("next_attempt_at").execute();
  await db.schema.createIndex("mail_outbox_sent_at_idx").on("mail_outbox").column("sent_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("mail_outbox").execute();
}
