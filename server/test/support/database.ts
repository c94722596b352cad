import type { Kysely } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { allColumns, preparedQuery } from "../../src/db/prepared.js";
import type { UserRow } from "../../src/modules/user/user.repository.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import type { TestApp } from "./app.js";
import type { TestDialect } from "./dialects.js";

/** What the database holds, read directly: the view of someone with a copy of it, and of a user's rows. */

export const tableNames = [
  "user",
  "session",
  "refresh_token",
  "signing_key",
  "totp_credential",
  "recovery_code",
  "login_challenge",
  "trusted_device",
  "audit_event",
  "link_token",
  "oidc_client",
  "oidc_payload",
  "passkey",
  "webauthn_challenge",
] as const satisfies readonly (keyof Database)[];

/** Every row of every table as one string: what someone holding a copy of the database sees. */
export async function dumpDatabase(db: Kysely<Database>): Promise<string> {
  const parts: string[] = [];
  for (const table of tableNames) {
    const rows = await db.selectFrom(table).selectAll().execute();
    parts.push(`${table}: ${JSON.stringify(rows)}`);
  }
  return parts.join("\n");
}

/** Row counts of the user's second-factor material. */
export async function secondFactorRows(
  t: TestApp,
  userId: string,
): Promise<{ credentials: number; recoveryCodes: number; activeDevices: number }> {
  const credentials = await t.db.selectFrom("totp_credential").select("id").where("user_id", "=", userId).execute();
  const codes = await t.db.selectFrom("recovery_code").select("id").where("user_id", "=", userId).execute();
  const devices = await t.db
    .selectFrom("trusted_device")
    .select("id")
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
  return { credentials: credentials.length, recoveryCodes: codes.length, activeDevices: devices.length };
}

/** The user's second-factor lockout counters. */
export async function lockState(
  t: TestApp,
  userId: string,
): Promise<{ failed: number; consecutive: number; lockedUntil: number | null; lockouts: number }> {
  const row = await t.db
    .selectFrom("user")
    .select(["mfa_failed_count", "mfa_consecutive_failures", "mfa_locked_until", "mfa_lockouts"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  return {
    failed: Number(row.mfa_failed_count),
    consecutive: Number(row.mfa_consecutive_failures),
    lockedUntil: row.mfa_locked_until === null ? null : Number(row.mfa_locked_until),
    lockouts: Number(row.mfa_lockouts),
  };
}

export async function userIdOf(t: TestApp, username: string): Promise<string> {
  return (await t.db.selectFrom("user").select("id").where("username", "=", username).executeTakeFirstOrThrow()).id;
}

/** 2023-11-29T22:11:43.123Z: the creation time of the rows `userRow` makes. */
export const t0 = 1_701_295_903_123;

/** A complete user row for direct inserts (storage tests), with no login, lock or second factor. */
export function userRow(id: string, overrides: Partial<UserRow> = {}): UserRow {
  return {
    id,
    username: id,
    email: null,
    email_verified: 0,
    email_claim: null,
    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    roles: "",
    locked: 0,
    mfa_enabled: 0,
    mfa_failed_count: 0,
    mfa_window_started_at: null,
    mfa_consecutive_failures: 0,
    mfa_locked_until: null,
    mfa_lockouts: 0,
    created_at: t0,
    last_login_at: null,
    previous_login_at: null,
    ...overrides,
  };
}

/* Prepared queries on the audit table, for the tests of db/prepared.ts. */

const auditColumns = {
  id: true,
  user_id: true,
  type: true,
  ip: true,
  user_agent: true,
  detail: true,
  created_at: true,
} as const;
export const insertEvent = preparedQuery(
  (
    db,
    row: {
      id: string;
      user_id: string | null;
      type: string;
      ip: string | null;
      user_agent: string | null;
      detail: string | null;
      created_at: number;
    },
  ) => db.insertInto("audit_event").values(allColumns(row, auditColumns)),
);
export const eventsOfType = preparedQuery((db, p: { type: string }) =>
  db.selectFrom("audit_event").select(["id", "ip", "created_at"]).where("type", "=", p.type).orderBy("id"),
);
export const renameType = preparedQuery((db, p: { from: string; to: string }) =>
  db.updateTable("audit_event").set({ type: p.to, detail: "renamed" }).where("type", "=", p.from),
);

/** A fresh, migrated database of `dialect` for a describe block: made before its tests, dropped after. */
export function useDatabase(dialect: TestDialect, bind: (db: Kysely<Database>) => void): void {
  let db: Kysely<Database> | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const database = await dialect.createDatabase();
    drop = database.drop;
    db = createDb(database.url);
    await migrateToLatest(db);
    bind(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await drop?.();
  });
}
