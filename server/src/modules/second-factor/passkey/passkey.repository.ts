import type { Kysely, Selectable } from "kysely";
import type { Database, PasskeyTable, WebAuthnChallengeTable } from "../../../db/database.js";

export type PasskeyRow = Selectable<PasskeyTable>;
export type WebAuthnChallengeRow = Selectable<WebAuthnChallengeTable>;

export async function insertPasskey(db: Kysely<Database>, row: PasskeyRow): Promise<void> {
  await db.insertInto("passkey").values(row).execute();
}

export async function findByCredentialHash(
  db: Kysely<Database>,
  credentialHash: string,
): Promise<PasskeyRow | undefined> {
  return db.selectFrom("passkey").selectAll().where("credential_hash", "=", credentialHash).executeTakeFirst();
}

export async function listPasskeys(db: Kysely<Database>, userId: string): Promise<PasskeyRow[]> {
  return db
    .selectFrom("passkey")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
}

export async function renamePasskey(db: Kysely<Database>, userId: string, id: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable("passkey")
    .set({ name })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function deletePasskey(db: Kysely<Database>, userId: string, id: string): Promise<PasskeyRow | undefined> {
  const row = await db
    .selectFrom("passkey")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const result = await db.deleteFrom("passkey").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows === 1n ? row : undefined;
}

export async function deleteUserPasskeys(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("passkey").where("user_id", "=", userId).execute();
  await db.deleteFrom("webauthn_challenge").where("user_id", "=", userId).execute();
}

/**
 * Records a use: the new counter and the time, only while the stored counter is below the new one, or
 * both are 0 (an authenticator without a counter). A conditional UPDATE (STYLE S9): of two parallel
 * assertions with one counter value, one wins.
 */
export async function recordUse(
  db: Kysely<Database>,
  id: string,
  use: { counter: number; now: number; backedUp: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable("passkey")
    .set({ counter: use.counter, last_used_at: use.now, backed_up: use.backedUp ? 1 : 0 })
    .where("id", "=", id)
    .where((eb) => (use.counter === 0 ? eb("counter", "=", 0) : eb("counter", "<", use.counter)))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function insertChallenge(db: Kysely<Database>, row: WebAuthnChallengeRow): Promise<void> {
  await db.insertInto("webauthn_challenge").values(row).execute();
}

/**
 * Uses up a challenge (single use, STYLE S9): only a live, unused one made for this purpose and bound to
 * this user (and login challenge, when it was made for one) is consumed; parallel uses, one wins.
 */
export async function consumeChallenge(
  db: Kysely<Database>,
  p: { challengeHash: string; purpose: string; userId: string | null; loginChallengeId: string | null; now: number },
): Promise<boolean> {
  let query = db
    .updateTable("webauthn_challenge")
    .set({ consumed_at: p.now })
    .where("challenge_hash", "=", p.challengeHash)
    .where("purpose", "=", p.purpose)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", p.now);
  query = p.userId === null ? query.where("user_id", "is", null) : query.where("user_id", "=", p.userId);
  query =
    p.loginChallengeId === null
      ? query.where("login_challenge_id", "is", null)
      : query.where("login_challenge_id", "=", p.loginChallengeId);
  return (await query.executeTakeFirst()).numUpdatedRows === 1n;
}

/** Removes expired challenges (a background purge keeps the table small). */
export async function deleteExpiredChallenges(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom("webauthn_challenge").where("expires_at", "<=", now).execute();
}
