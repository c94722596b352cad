import type { Kysely } from "kysely";
import type { Database } from "../../../db/database.js";

export async function replaceRecoveryCodes(
  db: Kysely<Database>,
  userId: string,
  rows: { id: string; code_hash: string }[],
  now: number,
): Promise<void> {
  await db.deleteFrom("recovery_code").where("user_id", "=", userId).execute();
  await db
    .insertInto("recovery_code")
    .values(rows.map((row) => ({ ...row, user_id: userId, used_at: null, created_at: now })))
    .execute();
}

/** Single use under parallel redemption: the conditional UPDATE lets exactly one caller win (STYLE S9). */
export async function consumeRecoveryCode(
  db: Kysely<Database>,
  userId: string,
  codeHash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("recovery_code")
    .set({ used_at: now })
    .where("user_id", "=", userId)
    .where("code_hash", "=", codeHash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function listUnusedRecoveryCodes(
  db: Kysely<Database>,
  userId: string,
): Promise<{ id: string; created_at: number }[]> {
  return db
    .selectFrom("recovery_code")
    .select(["id", "created_at"])
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
}

export async function deleteRecoveryCodes(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("recovery_code").where("user_id", "=", userId).execute();
}
