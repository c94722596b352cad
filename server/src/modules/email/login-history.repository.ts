import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";

/**
 * For the "new sign-in" notice: true when the account has signed in before, but never from this user
 * agent (no session and no remembered device with it). Read before the new session is stored; two
 * indexed lookups by user id, three for the first login from a new browser.
 */
export async function isNewUserAgent(db: Kysely<Database>, userId: string, userAgent: string | null): Promise<boolean> {
  const session = await db
    .selectFrom("session")
    .select("id")
    .where("user_id", "=", userId)
    .where("user_agent", userAgent === null ? "is" : "=", userAgent)
    .limit(1)
    .executeTakeFirst();
  if (session !== undefined) return false;
  const device = await db
    .selectFrom("trusted_device")
    .select("id")
    .where("user_id", "=", userId)
    .where("user_agent", userAgent === null ? "is" : "=", userAgent)
    .limit(1)
    .executeTakeFirst();
  if (device !== undefined) return false;
  // The very first session of an account (made outside register, e.g. by the CLI) is not a "new device".
  const any = await db.selectFrom("session").select("id").where("user_id", "=", userId).limit(1).executeTakeFirst();
  return any !== undefined;
}
