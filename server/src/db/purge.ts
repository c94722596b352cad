import type { Kysely } from "kysely";
import type { Database } from "./database.js";

/** Tables whose rows carry an `expires_at` and an `id`, and are deleted once expired (SPEC "Staying up"). */
export type ExpiringTable = "link_token" | "login_challenge" | "trusted_device";

/** Deletes up to `limit` expired rows of `table`, in one bounded batch; how many it deleted. */
export async function purgeExpiredRows(
  db: Kysely<Database>,
  table: ExpiringTable,
  now: number,
  limit: number,
): Promise<number> {
  const rows = await db.selectFrom(table).select("id").where("expires_at", "<=", now).limit(limit).execute();
  if (rows.length === 0) return 0;
  const ids = rows.map((row) => row.id);
  await db.deleteFrom(table).where("id", "in", ids).execute();
  return ids.length;
}
