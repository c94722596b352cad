import type { Kysely, Selectable } from "kysely";
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

export type SessionWithUser = SessionRow & { user: Pick<Selectable<UserTable>, "mfa_enabled" | "roles" | "locked"> };

/** One indexed lookup per authenticated request: the session and the user fields a guard needs. */
export async function findActiveSessionWithUser(db: Kysely<Database>, id: string): Promise<SessionWithUser | undefined> {
  const row = await db.selectFrom("session")
    .innerJoin("user", "user.id", "session.user_id")
    .selectAll("session")
    .select(["user.mfa_enabled", "user.roles", "user.locked"])
    .where("session.id", "=", id)
    .where("session.revoked_at", "is", null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const { mfa_enabled, roles, locked, ...session } = row;
  return { ...session, user: { mfa_enabled, roles, locked } };
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
