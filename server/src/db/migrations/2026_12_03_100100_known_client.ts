import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `known_client`: the clients that signed in to an account (a browser by its `tessera_client` cookie, an
// API client by its IP address), each keeping a guessing allowance of its own (SPEC "Accounts and login").
// `client_hash` is a SHA-256 of the cookie's token or of the address, never the value itself.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("known_client")
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("client_hash", "varchar(64)", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addPrimaryKeyConstraint("known_client_pk", ["user_id", "client_hash"])
    .execute();
  await db.schema.createIndex("known_client_expires_at_idx").on("known_client").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("known_client").execute();
}
