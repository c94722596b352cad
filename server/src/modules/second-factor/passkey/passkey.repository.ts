import type { Kysely, Selectable } from "kysely";
import type { Database, PasskeyTable, WebAuthnChallengeTable } from "../../../db/database.js";
import { affectedRows, allColumns, preparedQuery } from "../../../db/prepared.js";

export type PasskeyRow = Selectable<PasskeyTable>;
export type WebAuthnChallengeRow = Selectable<WebAuthnChallengeTable>;

export async function insertPasskey(db: Kysely<Database>, row: PasskeyRow): Promise<void> {
  await db.insertInto("passkey").values(row).execute();
}

// The queries of a ceremony are prepared once (db/prepared.ts): a passkey sign-in runs them on every request.
const byCredentialHash = preparedQuery((db, p: { credentialHash: string }) =>
  db.selectFrom("passkey").selectAll().where("credential_hash", "=", p.credentialHash),
);
const ofUser = preparedQuery((db, p: { userId: string }) =>
  db
    .selectFrom("passkey")
    .selectAll()
    .where("user_id", "=", p.userId)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc"),
);

export async function findByCredentialHash(
  db: Kysely<Database>,
  credentialHash: string,
): Promise<PasskeyRow | undefined> {
  return (await byCredentialHash.execute(db, { credentialHash })).rows[0];
}

export async function listPasskeys(db: Kysely<Database>, userId: string): Promise<PasskeyRow[]> {
  return (await ofUser.execute(db, { userId })).rows;
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

type Use = { id: string; counter: number; now: number; backedUp: number };
const recordUseWithoutCounter = preparedQuery((db, p: Use) =>
  db
    .updateTable("passkey")
    .set({ counter: p.counter, last_used_at: p.now, backed_up: p.backedUp })
    .where("id", "=", p.id)
    .where("counter", "=", 0),
);
const recordUseWithCounter = preparedQuery((db, p: Use) =>
  db
    .updateTable("passkey")
    .set({ counter: p.counter, last_used_at: p.now, backed_up: p.backedUp })
    .where("id", "=", p.id)
    .where("counter", "<", p.counter),
);

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
  const query = use.counter === 0 ? recordUseWithoutCounter : recordUseWithCounter;
  const values = { id, counter: use.counter, now: use.now, backedUp: use.backedUp ? 1 : 0 };
  return affectedRows(await query.execute(db, values)) === 1n;
}

const challengeColumns: Record<keyof WebAuthnChallengeRow, true> = {
  id: true,
  challenge_hash: true,
  purpose: true,
  user_id: true,
  login_challenge_id: true,
  created_at: true,
  expires_at: true,
  consumed_at: true,
};
const insertChallengeRow = preparedQuery((db, p: WebAuthnChallengeRow) =>
  db.insertInto("webauthn_challenge").values(allColumns(p, challengeColumns)),
);

export async function insertChallenge(db: Kysely<Database>, row: WebAuthnChallengeRow): Promise<void> {
  await insertChallengeRow.execute(db, row);
}

type Consume = {
  challengeHash: string;
  purpose: string;
  userId: string | null;
  loginChallengeId: string | null;
  now: number;
};

/** One prepared UPDATE per binding shape: a user's or nobody's, a login's or none. */
function consumeQuery(userBound: boolean, loginBound: boolean) {
  return preparedQuery((db, p: Consume) => {
    let query = db
      .updateTable("webauthn_challenge")
      .set({ consumed_at: p.now })
      .where("challenge_hash", "=", p.challengeHash)
      .where("purpose", "=", p.purpose)
      .where("consumed_at", "is", null)
      .where("expires_at", ">", p.now);
    query = userBound ? query.where("user_id", "=", p.userId) : query.where("user_id", "is", null);
    return loginBound
      ? query.where("login_challenge_id", "=", p.loginChallengeId)
      : query.where("login_challenge_id", "is", null);
  });
}
const consumeQueries = [
  consumeQuery(false, false),
  consumeQuery(false, true),
  consumeQuery(true, false),
  consumeQuery(true, true),
];

/**
 * Uses up a challenge (single use, STYLE S9): only a live, unused one made for this purpose and bound to
 * this user (and login challenge, when it was made for one) is consumed; parallel uses, one wins.
 */
export async function consumeChallenge(db: Kysely<Database>, p: Consume): Promise<boolean> {
  const query = consumeQueries[(p.userId === null ? 0 : 2) + (p.loginChallengeId === null ? 0 : 1)];
  return affectedRows(await query!.execute(db, p)) === 1n;
}

/** Removes expired challenges (a background purge keeps the table small). */
const expiredChallenges = preparedQuery((db, p: { now: number }) =>
  db.deleteFrom("webauthn_challenge").where("expires_at", "<=", p.now),
);

export async function deleteExpiredChallenges(db: Kysely<Database>, now: number): Promise<void> {
  await expiredChallenges.execute(db, { now });
}
