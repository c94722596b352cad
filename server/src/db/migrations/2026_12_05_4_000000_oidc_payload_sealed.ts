import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// The OIDC library's documents are now stored under keyed hashes of their ids and encrypted
// (modules/oidc/oidc-seal.ts). The rows written before held codes, tokens and sessions in clear and can
// no longer be found: they are deleted (applications ask their users to sign in again).

export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom("oidc_payload").execute();
}

export async function down(): Promise<void> {
  // Nothing to restore: the deleted rows held secrets in clear.
}
