import type { Kysely, Selectable } from "kysely";
import type { Database, LoginChallengeTable } from "../../db/database.js";

export type LoginChallengeRow = Selectable<LoginChallengeTable>;

export async function insertChallenge(db: Kysely<Database>, row: LoginChallengeRow): Promise<void> {
  await db.insertInto("login_challenge").values(row).execute();
}

export async function findChallenge(db: Kysely<Database>, tokenHash: string): Promise<LoginChallengeRow | undefined> {
  return db.selectFrom("login_challenge").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
}

/** Takes one of the challenge's attempts before the code is checked; false when none is left. */
export async function takeAttempt(db: Kysely<Database>, id: string, maxAttempts: number, now: number): Promise<boolean> {
  const result = await db.updateTable("login_challenge").set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
    .where("id", "=", id).where("consumed_at", "is", null).where("expires_at", ">", now)
    .where("failed_attempts", "<", maxAttempts).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Single use: the first caller to consume it wins, parallel ones lose (STYLE S9). */
export async function consumeChallenge(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable("login_challenge").set({ consumed_at: now })
    .where("id", "=", id).where("consumed_at", "is", null).where("expires_at", ">", now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function deleteExpiredChallenges(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom("login_challenge").where("expires_at", "<", before).execute();
}

/** Ends every pending login challenge of a user (their password changed: a started login must start over). */
export async function deleteUserChallenges(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("login_challenge").where("user_id", "=", userId).execute();
}
