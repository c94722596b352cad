import { CompiledQuery, type Kysely, type Selectable } from "kysely";
import type { Database, SessionTable, UserTable } from "../../db/database.js";

export type SessionRow = Selectable<SessionTable>;

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await db.insertInto("session").values(row).execute();
}

export async function insertRefreshToken(db: Kysely<Database>, tokenHash: string, sessionId: string, now: number): Promise<void> {
  await db.insertInto("refresh_token").values({ token_hash: tokenHash, session_id: sessionId, created_at: now, used_at: null }).execute();
}

/** Single use: only the first caller flips `used_at` (STYLE S9), so parallel refreshes cannot both win. */
export async function consumeRefreshToken(db: Kysely<Database>, tokenHash: string, now: number): Promise<boolean> {
  const result = await db.updateTable("refresh_token").set({ used_at: now })
    .where("token_hash", "=", tokenHash).where("used_at", "is", null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function findRefreshToken(db: Kysely<Database>, tokenHash: string): Promise<{ session_id: string; used_at: number | null } | undefined> {
  return db.selectFrom("refresh_token").select(["session_id", "used_at"]).where("token_hash", "=", tokenHash).executeTakeFirst();
}

export async function findSession(db: Kysely<Database>, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom("session").selectAll().where("id", "=", id).executeTakeFirst();
}

export type SessionWithUser = SessionRow & { user: Selectable<UserTable> };

function sessionWithUserQuery(db: Kysely<Database>, id: string) {
  return db.selectFrom("session")
    .innerJoin("user", "user.id", "session.user_id")
    .select([
      "session.id", "session.user_id", "session.aal", "session.amr", "session.created_at", "session.last_used_at",
      "session.expires_at", "session.revoked_at", "session.ip", "session.user_agent",
      "user.username", "user.email", "user.email_verified", "user.password_hash", "user.roles", "user.locked",
      "user.mfa_enabled", "user.mfa_failed_count", "user.mfa_window_started_at", "user.mfa_consecutive_failures",
      "user.mfa_locked_until", "user.mfa_lockouts", "user.created_at as user_created_at", "user.last_login_at", "user.previous_login_at",
    ])
    .where("session.id", "=", id)
    .where("session.revoked_at", "is", null);
}

type SessionWithUserRow = NonNullable<Awaited<ReturnType<ReturnType<typeof sessionWithUserQuery>["executeTakeFirst"]>>>;

// The hot query of every authenticated request, built and compiled once per database:
// only its one parameter, the session id, changes.
const compiledSessionQueries = new WeakMap<Kysely<Database>, string>();

/** One indexed lookup per authenticated request: the live session joined with its user. */
export async function findActiveSessionWithUser(db: Kysely<Database>, id: string): Promise<SessionWithUser | undefined> {
  let sqlText = compiledSessionQueries.get(db);
  if (sqlText === undefined) {
    sqlText = sessionWithUserQuery(db, "").compile().sql;
    compiledSessionQueries.set(db, sqlText);
  }
  const result = await db.executeQuery(CompiledQuery.raw(sqlText, [id]));
  const [row] = result.rows as SessionWithUserRow[]; // the rows of sessionWithUserQuery, whose SQL this is
  if (row === undefined) return undefined;
  const { username, email, email_verified, password_hash, roles, locked, mfa_enabled, mfa_failed_count, mfa_window_started_at,
    mfa_consecutive_failures, mfa_locked_until, mfa_lockouts, user_created_at, last_login_at, previous_login_at, ...session } = row;
  return {
    ...session,
    user: {
      id: session.user_id, username, email, email_verified, password_hash, roles, locked, mfa_enabled, mfa_failed_count,
      mfa_window_started_at, mfa_consecutive_failures, mfa_locked_until, mfa_lockouts, created_at: user_created_at, last_login_at, previous_login_at,
    },
  };
}

export async function listActiveSessions(db: Kysely<Database>, userId: string, now: number): Promise<SessionRow[]> {
  return db.selectFrom("session").selectAll().where("user_id", "=", userId)
    .where("revoked_at", "is", null).where("expires_at", ">", now).orderBy("created_at", "desc").execute();
}

export async function touchSession(db: Kysely<Database>, id: string, now: number, expiresAt: number): Promise<void> {
  await db.updateTable("session").set({ last_used_at: now, expires_at: expiresAt }).where("id", "=", id).execute();
}

export async function revokeSession(db: Kysely<Database>, id: string, userId: string, now: number): Promise<boolean> {
  const result = await db.updateTable("session").set({ revoked_at: now })
    .where("id", "=", id).where("user_id", "=", userId).where("revoked_at", "is", null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function revokeUserSessions(db: Kysely<Database>, userId: string, now: number, exceptId: string | null): Promise<number> {
  let query = db.updateTable("session").set({ revoked_at: now }).where("user_id", "=", userId).where("revoked_at", "is", null);
  if (exceptId !== null) query = query.where("id", "!=", exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
