import type { Kysely, Selectable } from "kysely";
import type { Database, LinkTokenTable } from "../../db/database.js";

export type LinkTokenRow = Selectable<LinkTokenTable>;

/** Stores a new link and removes every other link of the same user and purpose: the newest one wins. */
export async function replaceLinkToken(db: Kysely<Database>, row: LinkTokenRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("link_token").where("user_id", "=", row.user_id).where("purpose", "=", row.purpose).execute();
    await trx.insertInto("link_token").values(row).execute();
  });
}

/** A link that can still be used: right purpose, unused, not expired. */
export async function findLiveLinkToken(db: Kysely<Database>, tokenHash: string, purpose: string, now: number): Promise<LinkTokenRow | undefined> {
  return db.selectFrom("link_token").selectAll()
    .where("token_hash", "=", tokenHash).where("purpose", "=", purpose)
    .where("used_at", "is", null).where("expires_at", ">", now)
    .executeTakeFirst();
}

/** Single use (STYLE S9): only the first caller flips `used_at`; a parallel or later one gets false. */
export async function consumeLinkToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable("link_token").set({ used_at: now })
    .where("id", "=", id).where("used_at", "is", null).where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function deleteLinkTokens(db: Kysely<Database>, userId: string, purposes: readonly string[]): Promise<void> {
  if (purposes.length === 0) return;
  await db.deleteFrom("link_token").where("user_id", "=", userId).where("purpose", "in", purposes).execute();
}
