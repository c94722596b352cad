import type { Kysely, Selectable, Updateable } from "kysely";
import type { Database, UserTable } from "../../db/database.js";
import { affectedRows, preparedQuery } from "../../db/prepared.js";

export type UserRow = Selectable<UserTable>;

export async function insertUser(db: Kysely<Database>, row: UserRow): Promise<void> {
  await db.insertInto("user").values(row).execute();
}

const byId = preparedQuery((db, p: { id: string }) => db.selectFrom("user").selectAll().where("id", "=", p.id));
const byUsername = preparedQuery((db, p: { username: string }) =>
  db.selectFrom("user").selectAll().where("username", "=", p.username),
);
const byEmail = preparedQuery((db, p: { email: string }) =>
  db.selectFrom("user").selectAll().where("email", "=", p.email),
);

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return (await byId.execute(db, { id })).rows[0];
}

export async function findUserByUsername(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return (await byUsername.execute(db, { username })).rows[0];
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return (await byEmail.execute(db, { email })).rows[0];
}

export async function updateUser(db: Kysely<Database>, id: string, values: Updateable<UserTable>): Promise<void> {
  await db.updateTable("user").set(values).where("id", "=", id).execute();
}

/** Shifts the last login into `previous_login_at` in one statement, so concurrent logins cannot lose one. */
const loginTimes = preparedQuery((db, p: { id: string; now: number }) =>
  db
    .updateTable("user")
    .set((eb) => ({ previous_login_at: eb.ref("last_login_at"), last_login_at: p.now }))
    .where("id", "=", p.id)
    .where("locked", "=", 0),
);
/** The 2FA lockout counters of a user with no failures and no lock (attempt/mfa-lockout.ts). */
export const clearedMFACounters = {
  mfa_failed_count: 0,
  mfa_window_started_at: null,
  mfa_consecutive_failures: 0,
  mfa_locked_until: null,
  mfa_lockouts: 0,
} as const;

const secondFactorLoginTimes = preparedQuery((db, p: { id: string; now: number }) =>
  db
    .updateTable("user")
    .set((eb) => ({ previous_login_at: eb.ref("last_login_at"), last_login_at: p.now, ...clearedMFACounters }))
    .where("id", "=", p.id)
    .where("locked", "=", 0),
);

/**
 * Shifts the login times of an unlocked user; false when the user is gone or was locked meanwhile.
 * `afterSecondFactor`: the login passed a second factor, which also clears the 2FA lockout counters.
 */
export async function recordLogin(
  db: Kysely<Database>,
  id: string,
  now: number,
  options: { afterSecondFactor?: boolean } = {},
): Promise<boolean> {
  const query = options.afterSecondFactor === true ? secondFactorLoginTimes : loginTimes;
  return affectedRows(await query.execute(db, { id, now })) === 1n;
}

export async function listUsers(db: Kysely<Database>, limit: number, offset: number): Promise<UserRow[]> {
  return db
    .selectFrom("user")
    .selectAll()
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .limit(limit)
    .offset(offset)
    .execute();
}

/** Removes the user and every row that belongs to them, in the caller's transaction. */
export async function deleteUserCascade(db: Kysely<Database>, id: string): Promise<void> {
  // The user row first, as every other transaction that writes a user's rows takes it: a login
  // committing at the same time then waits for the deletion instead of deadlocking with it (MySQL)
  // or leaving rows behind it (PostgreSQL), and finds no user to log in.
  await db.deleteFrom("user").where("id", "=", id).execute();
  const sessionIds = db.selectFrom("session").select("id").where("user_id", "=", id);
  await db.deleteFrom("refresh_token").where("session_id", "in", sessionIds).execute();
  for (const table of [
    "session",
    "totp_credential",
    "recovery_code",
    "login_challenge",
    "trusted_device",
    "link_token",
    "audit_event",
  ] as const) {
    await db.deleteFrom(table).where("user_id", "=", id).execute();
  }
}
