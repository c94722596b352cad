import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// Types are chosen to mean the same on SQLite, PostgreSQL and MySQL:
// varchar for indexed text, bigint for Unix-millisecond times, integer for booleans.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("user")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("username", "varchar(64)", (col) => col.notNull().unique())
    .addColumn("email", "varchar(254)", (col) => col.unique())
    .addColumn("email_verified", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("password_hash", "varchar(255)", (col) => col.notNull())
    .addColumn("roles", "varchar(255)", (col) => col.notNull().defaultTo(""))
    .addColumn("locked", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("mfa_enabled", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("mfa_failed_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("mfa_window_started_at", "bigint")
    .addColumn("mfa_consecutive_failures", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("mfa_locked_until", "bigint")
    .addColumn("mfa_lockouts", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("last_login_at", "bigint")
    .addColumn("previous_login_at", "bigint")
    .execute();

  await db.schema
    .createTable("session")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("aal", "integer", (col) => col.notNull())
    .addColumn("amr", "varchar(64)", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("last_used_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addColumn("revoked_at", "bigint")
    .addColumn("ip", "varchar(64)")
    .addColumn("user_agent", "varchar(255)")
    .execute();
  await db.schema.createIndex("session_user_id_idx").on("session").column("user_id").execute();

  await db.schema
    .createTable("refresh_token")
    .addColumn("token_hash", "varchar(64)", (col) => col.primaryKey())
    .addColumn("session_id", "varchar(32)", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("refresh_token_session_id_idx").on("refresh_token").column("session_id").execute();

  await db.schema
    .createTable("signing_key")
    .addColumn("id", "varchar(64)", (col) => col.primaryKey())
    .addColumn("algorithm", "varchar(16)", (col) => col.notNull())
    .addColumn("public_jwk", "text", (col) => col.notNull())
    .addColumn("private_jwk_ciphertext", "text", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("totp_credential")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("secret_ciphertext", "text", (col) => col.notNull())
    .addColumn("confirmed_at", "bigint")
    .addColumn("expires_at", "bigint")
    .addColumn("last_used_step", "bigint", (col) => col.notNull().defaultTo(-1))
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .execute();
  await db.schema.createIndex("totp_credential_user_id_idx").on("totp_credential").column("user_id").execute();

  await db.schema
    .createTable("recovery_code")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("code_hash", "varchar(64)", (col) => col.notNull())
    .addColumn("used_at", "bigint")
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex("recovery_code_user_hash_idx")
    .on("recovery_code")
    .columns(["user_id", "code_hash"])
    .execute();

  await db.schema
    .createTable("login_challenge")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("token_hash", "varchar(64)", (col) => col.notNull().unique())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("first_factor", "varchar(16)", (col) => col.notNull())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addColumn("failed_attempts", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("consumed_at", "bigint")
    .addColumn("ip", "varchar(64)")
    .addColumn("user_agent", "varchar(255)")
    .execute();
  await db.schema.createIndex("login_challenge_user_id_idx").on("login_challenge").column("user_id").execute();

  await db.schema
    .createTable("trusted_device")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("token_hash", "varchar(64)", (col) => col.notNull().unique())
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addColumn("revoked_at", "bigint")
    .addColumn("user_agent", "varchar(255)")
    .execute();
  await db.schema.createIndex("trusted_device_user_id_idx").on("trusted_device").column("user_id").execute();

  await db.schema
    .createTable("audit_event")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)")
    .addColumn("type", "varchar(64)", (col) => col.notNull())
    .addColumn("ip", "varchar(64)")
    .addColumn("user_agent", "varchar(255)")
    .addColumn("detail", "text")
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .execute();
  await db.schema.createIndex("audit_event_user_id_idx").on("audit_event").columns(["user_id", "created_at"]).execute();

  await db.schema
    .createTable("link_token")
    .addColumn("id", "varchar(32)", (col) => col.primaryKey())
    .addColumn("user_id", "varchar(32)", (col) => col.notNull())
    .addColumn("purpose", "varchar(32)", (col) => col.notNull())
    .addColumn("token_hash", "varchar(64)", (col) => col.notNull().unique())
    .addColumn("email", "varchar(254)")
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("link_token_user_purpose_idx").on("link_token").columns(["user_id", "purpose"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "link_token",
    "audit_event",
    "trusted_device",
    "login_challenge",
    "recovery_code",
    "totp_credential",
    "signing_key",
    "refresh_token",
    "session",
    "user",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
