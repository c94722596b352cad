import type { ExpressionBuilder, ExpressionWrapper, Kysely, Selectable } from "kysely";
import type { Database, UserTable } from "../../db/database.js";
import { affectedRows, preparedQuery } from "../../db/prepared.js";

/*
 * The `user` table. Its columns are written here, except the second-factor lockout counters
 * (`mfa_failed_count` … `mfa_lockouts`), which only second-factor/lockout.ts writes.
 */

export type UserRow = Selectable<UserTable>;

/** The user fields an authenticated request needs: who it is, whether it may act, and the /me view. */
export type UserProfile = Pick<
  UserRow,
  | "id"
  | "username"
  | "email"
  | "email_verified"
  | "email_claim"
  | "roles"
  | "locked"
  | "mfa_enabled"
  | "created_at"
  | "last_login_at"
  | "previous_login_at"
>;

export async function insertUser(db: Kysely<Database>, row: UserRow): Promise<void> {
  await db.insertInto("user").values(row).execute();
}

const byId = preparedQuery((db, p: { id: string }) => db.selectFrom("user").selectAll().where("id", "=", p.id));
const byUsername = preparedQuery((db, p: { username: string }) =>
  db.selectFrom("user").selectAll().where("username", "=", p.username),
);
// `email` holds verified addresses only: a claim never finds an account.
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

export async function setPasswordHash(db: Kysely<Database>, id: string, passwordHash: string): Promise<void> {
  await db.updateTable("user").set({ password_hash: passwordHash }).where("id", "=", id).execute();
}

/** The account claims an address (not verified yet); several accounts may claim one. */
export async function setEmailClaim(db: Kysely<Database>, id: string, email: string | null): Promise<void> {
  await db.updateTable("user").set({ email_claim: email }).where("id", "=", id).execute();
}

/**
 * Attaches an address its owner has proved to hold, and drops every other account's claim on it (SPEC
 * "Email": the first to verify owns it). Throws the unique violation when another account verified it first.
 */
export async function setVerifiedEmail(db: Kysely<Database>, id: string, email: string): Promise<void> {
  await db.updateTable("user").set({ email, email_verified: 1, email_claim: null }).where("id", "=", id).execute();
  await db.updateTable("user").set({ email_claim: null }).where("email_claim", "=", email).execute();
}

export async function setLocked(db: Kysely<Database>, id: string, locked: boolean): Promise<void> {
  await db
    .updateTable("user")
    .set({ locked: locked ? 1 : 0 })
    .where("id", "=", id)
    .execute();
}

export async function setRoles(db: Kysely<Database>, id: string, roles: readonly string[]): Promise<void> {
  await db
    .updateTable("user")
    .set({ roles: roles.join(",") })
    .where("id", "=", id)
    .execute();
}

/** Whether two-factor is on; second-factor/ turns it on and off, with the factors themselves. */
/**
 * Takes the user row's write lock in the caller's transaction without changing it, and reads it back: for a
 * transaction that must take the user row first (as logins do) before deciding what to write.
 */
export async function lockUserRow(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  await db
    .updateTable("user")
    .set((eb) => ({ mfa_enabled: eb.ref("mfa_enabled") }))
    .where("id", "=", id)
    .execute();
  return findUserById(db, id);
}

export async function setSecondFactorEnabled(db: Kysely<Database>, id: string, enabled: boolean): Promise<void> {
  await db
    .updateTable("user")
    .set({ mfa_enabled: enabled ? 1 : 0 })
    .where("id", "=", id)
    .execute();
}

/**
 * The last login moves into `previous_login_at` in the same statement, so concurrent logins cannot
 * lose one. Shared with second-factor/lockout.ts, whose one UPDATE also clears the lockout.
 */
export function shiftedLoginTimes(
  eb: ExpressionBuilder<Database, "user">,
  now: number,
): { previous_login_at: ExpressionWrapper<Database, "user", number | null>; last_login_at: number } {
  return { previous_login_at: eb.ref("last_login_at"), last_login_at: now };
}

const loginTimes = preparedQuery((db, p: { id: string; now: number }) =>
  db
    .updateTable("user")
    .set((eb) => shiftedLoginTimes(eb, p.now))
    .where("id", "=", p.id)
    .where("locked", "=", 0),
);

/** Shifts the login times of an unlocked user; false when the user is gone or was locked meanwhile. */
export async function recordLogin(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  return affectedRows(await loginTimes.execute(db, { id, now })) === 1n;
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

/** The user row alone; account/ deletes the rows of every other module around it. */
export async function deleteUser(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("user").where("id", "=", id).execute();
}
