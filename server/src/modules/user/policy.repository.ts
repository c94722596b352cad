import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";

/*
 * The `policy` table: one row (id 1) holding the two-factor policy as text (src/policy.ts parses it).
 * The session lookup reads it joined with every session (session/active-session.repository.ts), so a
 * change is seen by the next request of every session on every instance.
 */

/** The stored policy text; null before the first start seeded it. */
export async function readPolicy(db: Kysely<Database>): Promise<string | null> {
  const row = await db.selectFrom("policy").select("require_2fa").where("id", "=", 1).executeTakeFirst();
  return row?.require_2fa ?? null;
}

export async function writePolicy(db: Kysely<Database>, value: string, now: number): Promise<void> {
  await db.updateTable("policy").set({ require_2fa: value, updated_at: now }).where("id", "=", 1).execute();
}

/** Writes REQUIRE_2FA on the first start only: once a value is stored, the database's value stands. */
export async function seedPolicy(db: Kysely<Database>, value: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("policy")
    .set({ require_2fa: value, updated_at: now })
    .where("id", "=", 1)
    .where("require_2fa", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Takes the policy row's write lock inside `trx` (an UPDATE that changes nothing): the changes that must
 * leave at least one administrator (roles, lock, delete) run one at a time, so two cannot each remove
 * "the other" last admin. SQLite has one writer anyway.
 */
export async function lockAdministration(trx: Kysely<Database>): Promise<void> {
  await trx
    .updateTable("policy")
    .set((eb) => ({ updated_at: eb.ref("updated_at") }))
    .where("id", "=", 1)
    .execute();
}
