import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { preparedQuery } from "../../db/prepared.js";
import type { UserProfile } from "../user/user.repository.js";

/** A session that is not revoked, joined with its user. */
export interface ActiveSession {
  id: string;
  user_id: string;
  aal: number;
  amr: string;
  /** Unix milliseconds: when the person last proved a factor. */
  auth_time: number;
  expires_at: number;
  user: UserProfile;
  /** The two-factor policy as stored (src/policy.ts), read with every session so a change applies at once. */
  require_2fa: string | null;
}

/**
 * The columns of an active session and its user, in this order; `sessionFromColumns` reads them back.
 * Shared by the Kysely query below and the SQLite reader's prepared statement (db/sqlite/read-cache.ts,
 * through session-lookup.ts).
 */
export const activeSessionColumns = [
  "session.id",
  "session.user_id",
  "session.aal",
  "session.amr",
  "session.auth_time",
  "session.expires_at",
  "user.username",
  "user.email",
  "user.email_verified",
  "user.email_claim",
  "user.roles",
  "user.locked",
  "user.mfa_enabled",
  "user.created_at",
  "user.last_login_at",
  "user.previous_login_at",
  "policy.require_2fa",
] as const;

export type ActiveSessionColumns = [
  string,
  string,
  number,
  string,
  number,
  number,
  string,
  string | null,
  number,
  string | null,
  string,
  number,
  number,
  number,
  number | null,
  number | null,
  string | null,
];

export function sessionFromColumns(values: ActiveSessionColumns): ActiveSession {
  const [
    id,
    user_id,
    aal,
    amr,
    auth_time,
    expires_at,
    username,
    email,
    email_verified,
    email_claim,
    roles,
    locked,
    mfa_enabled,
    created_at,
    last_login_at,
    previous_login_at,
    require_2fa,
  ] = values;
  return {
    id,
    user_id,
    aal,
    amr,
    auth_time,
    expires_at,
    user: {
      id: user_id,
      username,
      email,
      email_verified,
      email_claim,
      roles,
      locked,
      mfa_enabled,
      created_at,
      last_login_at,
      previous_login_at,
    },
    require_2fa,
  };
}

export function activeSessionQuery(db: Kysely<Database>, id: string) {
  return (
    db
      .selectFrom("session")
      .innerJoin("user", "user.id", "session.user_id")
      // The one-row policy table: its value travels with the session row (and its cache) at no extra query.
      .leftJoin("policy", (join) => join.onTrue())
      .select(activeSessionColumns)
      .where("session.id", "=", id)
      .where("session.revoked_at", "is", null)
  );
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
    row.auth_time,
    row.expires_at,
    row.username,
    row.email,
    row.email_verified,
    row.email_claim,
    row.roles,
    row.locked,
    row.mfa_enabled,
    row.created_at,
    row.last_login_at,
    row.previous_login_at,
    row.require_2fa,
  ]);
}
