import type { Kysely, Selectable } from "kysely";
import type { Database, LinkTokenTable } from "../../db/database.js";
import { purgeExpiredRows } from "../../db/purge.js";

export type LinkTokenRow = Selectable<LinkTokenTable>;

/**
 * Stores a new link, then removes every other link of the same user and purpose: the newest one wins.
 * No transaction and deletes by primary key only: a delete-then-insert transaction on the
 * (user_id, purpose) index takes gap locks that deadlock on MySQL when two links are sent at once.
 */
export async function replaceLinkToken(db: Kysely<Database>, row: LinkTokenRow): Promise<void> {
  await db.insertInto("link_token").values(row).execute();
  const older = await db
    .selectFrom("link_token")
    .select("id")
    .where("user_id", "=", row.user_id)
    .where("purpose", "=", row.purpose)
    .where("id", "!=", row.id)
    .where("created_at", "<=", row.created_at) // of two sent at once, the later one survives
    .execute();
  if (older.length === 0) return;
  const ids = older.map((link) => link.id).sort(); // one lock order for every caller
  // Two cleanups of one user's links can still meet on the same rows on MySQL; its deadlock
  // detector then aborts one of them, which simply tries again (the rows may be gone by then).
  for (let attempt = 1; ; attempt += 1) {
    try {
      await db.deleteFrom("link_token").where("id", "in", ids).execute();
      return;
    } catch (error) {
      if (attempt >= 5 || !isDeadlock(error)) throw error;
    }
  }
}

function isDeadlock(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error.code === "ER_LOCK_DEADLOCK" || error.code === "40P01")
  );
}

/** A link that can still be used: right purpose, unused, not expired. */
export async function findLiveLinkToken(
  db: Kysely<Database>,
  tokenHash: string,
  purpose: string,
  now: number,
): Promise<LinkTokenRow | undefined> {
  return db
    .selectFrom("link_token")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
}

/** Single use (STYLE S9): only the first caller flips `used_at`; a parallel or later one gets false. */
export async function consumeLinkToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("link_token")
    .set({ used_at: now })
    .where("id", "=", id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function deleteLinkTokens(
  db: Kysely<Database>,
  userId: string,
  purposes: readonly string[],
): Promise<void> {
  if (purposes.length === 0) return;
  await db.deleteFrom("link_token").where("user_id", "=", userId).where("purpose", "in", purposes).execute();
}

/** Every link of the user, whatever its purpose (account deletion). */
export async function deleteUserLinks(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("link_token").where("user_id", "=", userId).execute();
}

/** Every link of one purpose mailed to an address, whichever account it was for (claims dropped by a verification). */
export async function deleteAddressLinks(db: Kysely<Database>, purpose: string, email: string): Promise<void> {
  await db.deleteFrom("link_token").where("purpose", "=", purpose).where("email", "=", email).execute();
}

/** Deletes up to `limit` expired links (used or not); how many it deleted. */
export const purgeExpiredLinks = (db: Kysely<Database>, now: number, limit: number): Promise<number> =>
  purgeExpiredRows(db, "link_token", now, limit);

export async function deleteLinkToken(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("link_token").where("id", "=", id).execute();
}
