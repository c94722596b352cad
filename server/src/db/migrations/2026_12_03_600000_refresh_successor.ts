import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `refresh_token.successor_ciphertext`: the token pair a rotation handed out, encrypted with the app key
// (AES-256-GCM, bound to the row), kept for the 10-second grace in which the same refresh token presented
// again answers the same pair (SPEC "refresh"); cleared once that window has passed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("refresh_token").addColumn("successor_ciphertext", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("refresh_token").dropColumn("successor_ciphertext").execute();
}
