import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// Passkeys (SPEC "Passkeys"): the credentials (public keys are not secrets and are stored as they are),
// and the WebAuthn challenges handed out by the options routes, kept server-side until used or expired.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("passkey")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    // Credential ids may be up to 1023 bytes: the SHA-256 of the base64url id is what is unique and looked up.
    .addColumn("credential_hash", "varchar(64)", (col) => col.notNull().unique())
    .addColumn("credential_id", "text", (col) => col.notNull())
    .addColumn("public_key", "text", (col) => col.notNull())
    .addColumn("counter", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("transports", "varchar(255)", (col) => col.notNull().defaultTo(""))
    .addColumn("aaguid", "varchar(36)", (col) => col.notNull())
    .addColumn("device_type", "varchar(16)", (col) => col.notNull())
    .addColumn("backed_up", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("name", "varchar(64)", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();
  await db.schema.createIndex("passkey_user_id_idx").on("passkey").column("user_id").execute();

  await db.schema
    .createTable("webauthn_challenge")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("challenge_hash", "varchar(64)", (col) => col.notNull().unique())
    // register, second_factor, reauth or passwordless: a challenge answers only the ceremony it was made for.
    .addColumn("purpose", "varchar(16)", (col) => col.notNull())
    .addColumn("user_id", "varchar(32)")
    .addColumn("login_challenge_id", "varchar(32)")
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addColumn("consumed_at", "bigint")
    .execute();
  await db.schema.createIndex("webauthn_challenge_expires_idx").on("webauthn_challenge").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("webauthn_challenge").execute();
  await db.schema.dropTable("passkey").execute();
}
