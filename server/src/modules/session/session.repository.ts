import type { Kysely, Selectable } from "kysely";
import type { Database, SessionTable } from "../../db/database.js";
import { affectedRows, allColumns, preparedQuery } from "../../db/prepared.js";

export type SessionRow = Selectable<SessionTable>;

const insertSessionRow = preparedQuery((db, row: SessionRow) =>
  db.insertInto("session").values(
    allColumns(row, {
      id: true,
      user_id: true,
      aal: true,
      amr: true,
      created_at: true,
      auth_time: true,
      last_used_at: true,
      expires_at: true,
      revoked_at: true,
      ip: true,
      user_agent: true,
    }),
  ),
);
const insertRefreshTokenRow = preparedQuery((db, p: { tokenHash: string; sessionId: string; now: number }) =>
  db.insertInto("refresh_token").values({
    token_hash: p.tokenHash,
    session_id: p.sessionId,
    created_at: p.now,
    used_at: null,
    successor_ciphertext: null,
  }),
);
const consumeRefreshTokenRow = preparedQuery((db, p: { tokenHash: string; now: number; successorCiphertext: string }) =>
  db
    .updateTable("refresh_token")
    .set({ used_at: p.now, successor_ciphertext: p.successorCiphertext })
    .where("token_hash", "=", p.tokenHash)
    .where("used_at", "is", null),
);
const refreshTokenByHash = preparedQuery((db, p: { tokenHash: string }) =>
  db
    .selectFrom("refresh_token")
    .select(["session_id", "used_at", "successor_ciphertext"])
    .where("token_hash", "=", p.tokenHash),
);
const forgetSuccessorsRows = preparedQuery((db, p: { sessionId: string; before: number }) =>
  db
    .updateTable("refresh_token")
    .set({ successor_ciphertext: null })
    .where("session_id", "=", p.sessionId)
    .where("used_at", "<", p.before)
    .where("successor_ciphertext", "is not", null),
);
const sessionById = preparedQuery((db, p: { id: string }) =>
  db.selectFrom("session").selectAll().where("id", "=", p.id),
);

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await insertSessionRow.send(db, row);
}

export async function insertRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
  sessionId: string,
  now: number,
): Promise<void> {
  await insertRefreshTokenRow.send(db, { tokenHash, sessionId, now });
}

/**
 * Single use: only the first caller flips `used_at` (STYLE S9), and stores in the same statement the
 * (encrypted) pair it hands out, so a parallel caller that loses finds that pair once this commits.
 */
export async function consumeRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
  now: number,
  successorCiphertext: string,
): Promise<boolean> {
  return affectedRows(await consumeRefreshTokenRow.execute(db, { tokenHash, now, successorCiphertext })) === 1n;
}

export interface RefreshTokenRow {
  session_id: string;
  used_at: number | null;
  successor_ciphertext: string | null;
}

export async function findRefreshToken(db: Kysely<Database>, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return (await refreshTokenByHash.execute(db, { tokenHash })).rows[0];
}

/** Drops the session's stored successor pairs whose grace ended before `before`. */
export async function forgetOldSuccessors(db: Kysely<Database>, sessionId: string, before: number): Promise<void> {
  await forgetSuccessorsRows.execute(db, { sessionId, before });
}

export async function findSession(db: Kysely<Database>, id: string): Promise<SessionRow | undefined> {
  return (await sessionById.execute(db, { id })).rows[0];
}

export async function listActiveSessions(db: Kysely<Database>, userId: string, now: number): Promise<SessionRow[]> {
  return db
    .selectFrom("session")
    .selectAll()
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .orderBy("created_at", "desc")
    .execute();
}

export async function touchSession(db: Kysely<Database>, id: string, now: number, expiresAt: number): Promise<void> {
  await db.updateTable("session").set({ last_used_at: now, expires_at: expiresAt }).where("id", "=", id).execute();
}

/** A re-authentication: the live session's new `auth_time`; false when it was revoked or has expired. */
export async function renewAuthTime(db: Kysely<Database>, id: string, userId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("session")
    .set({ auth_time: now, last_used_at: now })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Uses up every live refresh token of a session (its rotation outside a refresh): a copy that comes back is reuse. */
export async function consumeSessionRefreshTokens(db: Kysely<Database>, sessionId: string, now: number): Promise<void> {
  await db
    .updateTable("refresh_token")
    .set({ used_at: now })
    .where("session_id", "=", sessionId)
    .where("used_at", "is", null)
    .execute();
}

export async function revokeSession(db: Kysely<Database>, id: string, userId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("session")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function revokeUserSessions(
  db: Kysely<Database>,
  userId: string,
  now: number,
  exceptId: string | null,
): Promise<number> {
  let query = db
    .updateTable("session")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null);
  if (exceptId !== null) query = query.where("id", "!=", exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Every session of the user and its refresh tokens (account deletion). */
export async function deleteUserSessions(db: Kysely<Database>, userId: string): Promise<void> {
  const sessionIds = db.selectFrom("session").select("id").where("user_id", "=", userId);
  await db.deleteFrom("refresh_token").where("session_id", "in", sessionIds).execute();
  await db.deleteFrom("session").where("user_id", "=", userId).execute();
}

/*
 * Login history, for the "new sign-in" notice (login/): indexed lookups by user id, read before
 * the new session is stored.
 */

const sessionFromUserAgent = preparedQuery((db, p: { userId: string; userAgent: string }) =>
  db.selectFrom("session").select("id").where("user_id", "=", p.userId).where("user_agent", "=", p.userAgent).limit(1),
);
const sessionWithoutUserAgent = preparedQuery((db, p: { userId: string }) =>
  db.selectFrom("session").select("id").where("user_id", "=", p.userId).where("user_agent", "is", null).limit(1),
);

/**
 * Whether the user has a session (live or not) from this user agent. Sent ahead (db/pipeline.ts): a
 * caller may start it with other statements and await it later.
 */
export async function hasSessionFromUserAgent(
  db: Kysely<Database>,
  userId: string,
  userAgent: string | null,
): Promise<boolean> {
  const found =
    userAgent === null
      ? await sessionWithoutUserAgent.sendForReply(db, { userId })
      : await sessionFromUserAgent.sendForReply(db, { userId, userAgent });
  return found.rows.length > 0;
}

/** Whether the user has ever had a session. */
export async function hasAnySession(db: Kysely<Database>, userId: string): Promise<boolean> {
  const any = await db.selectFrom("session").select("id").where("user_id", "=", userId).limit(1).executeTakeFirst();
  return any !== undefined;
}

const tokenSubjectRow = preparedQuery((db, p: { userId: string }) =>
  db
    .selectFrom("user")
    .leftJoin("policy", (join) => join.onTrue())
    .select(["user.roles", "user.mfa_enabled", "policy.require_2fa"])
    .where("user.id", "=", p.userId),
);

/** What an access token says of its user besides the session: roles, and whether the policy wants a second factor. */
export interface TokenSubject {
  roles: string;
  mfa_enabled: number;
  require_2fa: string | null;
}

export async function findTokenSubject(db: Kysely<Database>, userId: string): Promise<TokenSubject | undefined> {
  return (await tokenSubjectRow.execute(db, { userId })).rows[0];
}

/** Deletes up to `limit` expired sessions (revoked or not) with their refresh tokens; how many sessions. */
export async function purgeExpiredSessions(db: Kysely<Database>, now: number, limit: number): Promise<number> {
  const rows = await db.selectFrom("session").select("id").where("expires_at", "<=", now).limit(limit).execute();
  if (rows.length === 0) return 0;
  const ids = rows.map((row) => row.id);
  await db.deleteFrom("refresh_token").where("session_id", "in", ids).execute();
  await db.deleteFrom("session").where("id", "in", ids).execute();
  return ids.length;
}
