import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// The background purge of expired rows (SPEC §3) finds them by `expires_at`.

const indexes = [
  ["login_challenge_expires_at_idx", "login_challenge"],
  ["link_token_expires_at_idx", "link_token"],
  ["session_expires_at_idx", "session"],
  ["trusted_device_expires_at_idx", "trusted_device"],
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table] of indexes) await db.schema.createIndex(name).on(table).column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name, table] of indexes) {
    try {
      await db.schema.dropIndex(name).execute();
    } catch {
      await db.schema.dropIndex(name).on(table).execute(); // MySQL names the table
    }
  }
}
