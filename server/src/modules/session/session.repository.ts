import type { Kysely, Selectable } from "kysely";
import type { Database, SessionTable, UserTable } from "../../db/database.js";
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
      last_used_at: true,
      expires_at: true,
      revoked_at: true,
      ip: true,
      user_agent: true,
    }),
  ),
);
const insertRefreshTokenRow = preparedQuery((db, p: { tokenHash: string; sessionId: string; now: number }) =>
  db
    .insertInto("refresh_token")
    .values({ token_hash: p.tokenHash, session_id: p.sessionId, created_at: p.now, used_at: null }),
);
const consumeRefreshTokenRow = preparedQuery((db, p: { tokenHash: string; now: number }) =>
  db
    .updateTable("refresh_token")
    .set({ used_at: p.now })
    .where("token_hash", "=", p.tokenHash)
    .where("used_at", "is", null),
);
const refreshTokenByHash = preparedQuery((db, p: { tokenHash: string }) =>
  db.selectFrom("refresh_token").select(["session_id", "used_at"]).where("token_hash", "=", p.tokenHash),
);
const sessionById = preparedQuery((db, p: { id: string }) =>
  db.selectFrom("session").selectAll().where("id", "=", p.id),
);

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await insertSessionRow.execute(db, row);
}

export async function insertRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
  sessionId: string,
  now: number,
): Promise<void> {
  await insertRefreshTokenRow.execute(db, { tokenHash, sessionId, now });
}

/** Single use: only the first caller flips `used_at` (STYLE S9), so parallel refreshes cannot both win. */
export async function consumeRefreshToken(db: Kysely<Database>, tokenHash: string, now: number): Promise<boolean> {
  return affectedRows(await consumeRefreshTokenRow.execute(db, { tokenHash, now })) === 1n;
}

export async function findRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<{ session_id: string; used_at: number | null } | undefined> {
  return (await refreshTokenByHash.execute(db, { tokenHash })).rows[0];
}

export async function findSession(db: Kysely<Database>, id: string): Promise<SessionRow | undefined> {
  return (await sessionById.execute(db, { id })).rows[0];
}

/** The user fields an authenticated request needs: who it is, whether it may act, and the /me view. */
export type SessionUser = Pick<
  Selectable<UserTable>,
  | "id"
  | "username"
  | "email"
  | "email_verified"
  | "roles"
  | "locked"
  | "mfa_enabled"
  | "created_at"
  | "last_login_at"
  | "previous_login_at"
>;

/** A session that is not revoked, joined with its user. */
export interface ActiveSession {
  id: string;
  user_id: string;
  aal: number;
  amr: string;
  expires_at: number;
  user: SessionUser;
}

/**
 * The columns of an active session and its user, in this order; `sessionFromColumns` reads them back.
 * Shared by the Kysely query below and the SQLite reader's prepared statement (db/sqlite/read-cache.ts, through session-lookup.ts).
 */
export const activeSessionColumns = [
  "session.id",
  "session.user_id",
  "session.aal",
  "session.amr",
  "session.expires_at",
  "user.username",
  "user.email",
  "user.email_verified",
  "user.roles",
  "user.locked",
  "user.mfa_enabled",
  "user.created_at",
  "user.last_login_at",
  "user.previous_login_at",
] as const;

export type ActiveSessionColumns = [
  string,
  string,
  number,
  string,
  number,
  string,
  string | null,
  number,
  string,
  number,
  number,
  number,
  number | null,
  number | null,
];

export function sessionFromColumns(values: ActiveSessionColumns): ActiveSession {
  const [
    id,
    user_id,
    aal,
    amr,
    expires_at,
    username,
    email,
    email_verified,
    roles,
    locked,
    mfa_enabled,
    created_at,
    last_login_at,
    previous_login_at,
  ] = values;
  return {
    id,
    user_id,
    aal,
    amr,
    expires_at,
    user: {
      id: user_id,
      username,
      email,
      email_verified,
      roles,
      locked,
      mfa_enabled,
      created_at,
      last_login_at,
      previous_login_at,
    },
  };
}

export function activeSessionQuery(db: Kysely<Database>, id: string) {
  return db
    .selectFrom("session")
    .innerJoin("user", "user.id", "session.user_id")
    .select(activeSessionColumns)
    .where("session.id", "=", id)
    .where("session.revoked_at", "is", null);
}

const activeSession = preparedQuery((db, p: { id: string }) => activeSessionQuery(db, p.id));

/** One indexed lookup: the session, unless revoked, joined with its user. */
export async function findActiveSession(db: Kysely<Database>, id: string): Promise<ActiveSession | undefined> {
  const row = (await activeSession.execute(db, { id })).rows[0];
  if (row === undefined) return undefined;
  return sessionFromColumns([
    row.id,
    row.user_id,
    row.aal,
    row.amr,
    row.expires_at,
    row.username,
    row.email,
    row.email_verified,
    row.roles,
    row.locked,
    row.mfa_enabled,
    row.created_at,
    row.last_login_at,
    row.previous_login_at,
  ]);
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
