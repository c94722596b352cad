import type { Kysely, Selectable } from "kysely";
import type { Database, LoginChallengeTable } from "../../db/database.js";
import { purgeExpiredRows } from "../../db/purge.js";
import { affectedRows, allColumns, preparedQuery } from "../../db/prepared.js";
import type { ActiveCredential } from "../second-factor/totp/totp.repository.js";
import type { UserRow } from "../user/user.repository.js";

export type LoginChallengeRow = Selectable<LoginChallengeTable>;

/**
 * What finishing a login needs, read in one query: the challenge, its user, the user's confirmed
 * TOTP credential and the two-factor policy. The one place a module reads other modules' tables
 * (user/, second-factor/, the policy) in a query of its own: a two-factor login is one read and one
 * transaction (README "Performance").
 */
export interface ChallengeForLogin {
  challenge: Pick<
    LoginChallengeRow,
    "id" | "user_id" | "first_factor" | "expires_at" | "consumed_at" | "failed_attempts"
  >;
  user: UserRow;
  credential: ActiveCredential | null;
  /** The two-factor policy (policy.require_2fa), for the access token the login signs. */
  requireTwoFactor: string | null;
}

const insert = preparedQuery((db, row: LoginChallengeRow) =>
  db.insertInto("login_challenge").values(
    allColumns(row, {
      id: true,
      token_hash: true,
      user_id: true,
      first_factor: true,
      created_at: true,
      expires_at: true,
      failed_attempts: true,
      consumed_at: true,
      ip: true,
      user_agent: true,
    }),
  ),
);
const forLogin = preparedQuery((db, p: { tokenHash: string }) =>
  db
    .selectFrom("login_challenge")
    .innerJoin("user", "user.id", "login_challenge.user_id")
    .leftJoin("totp_credential", (join) =>
      join
        .onRef("totp_credential.user_id", "=", "login_challenge.user_id")
        .on("totp_credential.confirmed_at", "is not", null),
    )
    .leftJoin("policy", (join) => join.onTrue())
    .selectAll("user")
    .select([
      "login_challenge.id as challenge_id",
      "login_challenge.first_factor as challenge_first_factor",
      "login_challenge.expires_at as challenge_expires_at",
      "login_challenge.consumed_at as challenge_consumed_at",
      "login_challenge.failed_attempts as challenge_failed_attempts",
      "totp_credential.id as credential_id",
      "totp_credential.secret_ciphertext as credential_secret_ciphertext",
      "policy.require_2fa as policy_require_2fa",
    ])
    .where("login_challenge.token_hash", "=", p.tokenHash),
);
const attempt = preparedQuery((db, p: { id: string; maxAttempts: number; now: number }) =>
  db
    .updateTable("login_challenge")
    .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
    .where("id", "=", p.id)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", p.now)
    .where("failed_attempts", "<", p.maxAttempts),
);
const consume = preparedQuery((db, p: { id: string; now: number }) =>
  db
    .updateTable("login_challenge")
    .set({ consumed_at: p.now })
    .where("id", "=", p.id)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", p.now),
);

/** Hands back the attempt takeAttempt took (its account's lockout refused the attempt after all). */
const giveBack = preparedQuery((db, p: { id: string }) =>
  db
    .updateTable("login_challenge")
    .set((eb) => ({ failed_attempts: eb("failed_attempts", "-", 1) }))
    .where("id", "=", p.id)
    .where("failed_attempts", ">", 0),
);

export async function insertChallenge(db: Kysely<Database>, row: LoginChallengeRow): Promise<void> {
  await insert.execute(db, row);
}

/**
 * The challenge with this token hash, its user and credential; undefined when there is no such
 * challenge or user.
 */
export async function findChallengeForLogin(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<ChallengeForLogin | undefined> {
  const row = (await forLogin.execute(db, { tokenHash })).rows[0];
  if (row === undefined) return undefined;
  const {
    challenge_id,
    challenge_first_factor,
    challenge_expires_at,
    challenge_consumed_at,
    challenge_failed_attempts,
    credential_id,
    credential_secret_ciphertext,
    policy_require_2fa,
    ...user
  } = row;
  return {
    challenge: {
      id: challenge_id,
      user_id: user.id,
      first_factor: challenge_first_factor,
      expires_at: Number(challenge_expires_at),
      consumed_at: challenge_consumed_at === null ? null : Number(challenge_consumed_at),
      failed_attempts: Number(challenge_failed_attempts),
    },
    user,
    credential:
      credential_id === null || credential_secret_ciphertext === null
        ? null
        : { id: credential_id, secret_ciphertext: credential_secret_ciphertext },
    requireTwoFactor: policy_require_2fa,
  };
}

/** The live challenge (unused, unexpired, attempts left) with this token hash; undefined when there is none. */
export async function findLiveChallenge(
  db: Kysely<Database>,
  tokenHash: string,
  maxAttempts: number,
  now: number,
): Promise<Pick<LoginChallengeRow, "id" | "user_id"> | undefined> {
  return db
    .selectFrom("login_challenge")
    .select(["id", "user_id"])
    .where("token_hash", "=", tokenHash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .where("failed_attempts", "<", maxAttempts)
    .executeTakeFirst();
}

/** Takes one of the challenge's attempts before the code is checked; false when none is left. */
export async function takeAttempt(
  db: Kysely<Database>,
  id: string,
  maxAttempts: number,
  now: number,
): Promise<boolean> {
  return affectedRows(await attempt.execute(db, { id, maxAttempts, now })) === 1n;
}

/** Single use: the first caller to consume it wins, parallel ones lose (STYLE S9). */
export async function consumeChallenge(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  return affectedRows(await consume.execute(db, { id, now })) === 1n;
}

/** takeAttempt and consumeChallenge sent ahead (db/pipeline.ts): each promise tells later what the UPDATE did. */
export const takeAttemptAhead = (
  db: Kysely<Database>,
  id: string,
  maxAttempts: number,
  now: number,
): Promise<boolean> => attempt.sendForReply(db, { id, maxAttempts, now }).then((result) => affectedRows(result) === 1n);
export const consumeAhead = (db: Kysely<Database>, id: string, now: number): Promise<boolean> =>
  consume.sendForReply(db, { id, now }).then((result) => affectedRows(result) === 1n);

/** Hands back an attempt taken in the same transaction, when the attempt was refused before its code was read. */
export async function giveBackAttempt(db: Kysely<Database>, id: string): Promise<void> {
  await giveBack.execute(db, { id });
}

/** Ends every pending login challenge of a user (their password changed: a started login must start over). */
export async function deleteUserChallenges(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("login_challenge").where("user_id", "=", userId).execute();
}

/** Deletes up to `limit` expired challenges (used ones expire too, within 5 minutes); how many it deleted. */
export const purgeExpiredChallenges = (db: Kysely<Database>, now: number, limit: number): Promise<number> =>
  purgeExpiredRows(db, "login_challenge", now, limit);
