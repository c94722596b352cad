import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// OpenID Connect (SPEC "Other applications sign in through Tessera"):
// - `oidc_client`: the applications that sign in through Tessera. A confidential client's secret is kept only
//   as its SHA-256 (256 random bits: a fast hash is enough); a public client has none. Redirect URIs are a
//   JSON array, matched exactly.
// - `oidc_payload`: what the OIDC library stores (authorization codes, access and refresh tokens, grants,
//   sessions, interactions), one JSON document per (kind, id), with the columns it looks rows up by and
//   the account (`user_id`), so deleting an account deletes its grants and tokens.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("oidc_client")
    .addColumn("client_id", "varchar(64)", (col) => col.primaryKey())
    .addColumn("name", "varchar(128)", (col) => col.notNull())
    .addColumn("secret_hash", "varchar(64)")
    .addColumn("redirect_uris", "text", (col) => col.notNull())
    .addColumn("post_logout_redirect_uris", "text", (col) => col.notNull())
    .addColumn("first_party", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("require_2fa", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("oidc_payload")
    .addColumn("kind", "varchar(32)", (col) => col.notNull())
    .addColumn("id", "varchar(128)", (col) => col.notNull())
    .addColumn("payload", "text", (col) => col.notNull())
    .addColumn("grant_id", "varchar(128)")
    .addColumn("uid", "varchar(128)")
    .addColumn("client_id", "varchar(64)")
    .addColumn("user_id", "varchar(32)")
    .addColumn("expires_at", "bigint")
    .addColumn("consumed_at", "bigint")
    .addPrimaryKeyConstraint("oidc_payload_pk", ["kind", "id"])
    .execute();
  await db.schema.createIndex("oidc_payload_grant_id").on("oidc_payload").column("grant_id").execute();
  await db.schema.createIndex("oidc_payload_uid").on("oidc_payload").column("uid").execute();
  await db.schema.createIndex("oidc_payload_client_id").on("oidc_payload").column("client_id").execute();
  await db.schema.createIndex("oidc_payload_user_id").on("oidc_payload").column("user_id").execute();
  await db.schema.createIndex("oidc_payload_expires_at").on("oidc_payload").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("oidc_payload").execute();
  await db.schema.dropTable("oidc_client").execute();
}
