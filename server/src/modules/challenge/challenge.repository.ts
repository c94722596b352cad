import type { Kysely, Selectable } from "kysely";
import type { Database, LoginChallengeTable } from "../../db/database.js";
import { affectedRows, allColumns, preparedQuery } from "../../db/prepared.js";

export type LoginChallengeRow = Selectable<LoginChallengeTable>;

const insert = preparedQuery((db, row: LoginChallengeRow) => db.insertInto("login_challenge").values(allColumns(row, {
  id: true, token_hash: true, user_id: true, first_factor: true, created_at: true, expires_at: true, failed_attempts: true, consumed_at: true, ip: true, user_agent: true,
})));
const byTokenHash = preparedQuery((db, p: { tokenHash: string }) => db.selectFrom("login_challenge").selectAll().where("token_hash", "=", p.tokenHash));
const attempt = preparedQuery((db, p: { id: string; maxAttempts: number; now: number }) => db.updateTable("login_challenge")
  .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
  .where("id", "=", p.id).where("consumed_at", "is", null).where("expires_at", ">", p.now)
  .where("failed_attempts", "<", p.maxAttempts));
const consume = preparedQuery((db, p: { id: string; now: number }) => db.updateTable("login_challenge").set({ consumed_at: p.now })
  .where("id", "=", p.id).where("consumed_at", "is", null).where("expires_at", ">", p.now));

export async function insertChallenge(db: Kysely<Database>, row: LoginChallengeRow): Promise<void> {
  await insert.execute(db, row);
}

export async function findChallenge(db: Kysely<Database>, tokenHash: string): Promise<LoginChallengeRow | undefined> {
  return (await byTokenHash.execute(db, { tokenHash })).rows[0];
}

/** Takes one of the challenge's attempts before the code is checked; false when none is left. */
export async function takeAttempt(db: Kysely<Database>, id: string, maxAttempts: number, now: number): Promise<boolean> {
  return affectedRows(await attempt.execute(db, { id, maxAttempts, now })) === 1n;
}

/** Single use: the first caller to consume it wins, parallel ones lose (STYLE S9). */
export async function consumeChallenge(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  return affectedRows(await consume.execute(db, { id, now })) === 1n;
}

export async function deleteExpiredChallenges(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom("login_challenge").where("expires_at", "<", before).execute();
}

/** Ends every pending login challenge of a user (their password changed: a started login must start over). */
export async function deleteUserChallenges(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("login_challenge").where("user_id", "=", userId).execute();
}
