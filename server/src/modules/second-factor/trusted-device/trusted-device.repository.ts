import type { Kysely, Selectable } from "kysely";
import type { Database, TrustedDeviceTable } from "../../../db/database.js";
import { purgeExpiredRows } from "../../../db/purge.js";

export type TrustedDeviceRow = Selectable<TrustedDeviceTable>;

export async function insertTrustedDevice(db: Kysely<Database>, row: TrustedDeviceRow): Promise<void> {
  await db.insertInto("trusted_device").values(row).execute();
}

export async function findLiveDevice(
  db: Kysely<Database>,
  userId: string,
  tokenHash: string,
  now: number,
): Promise<{ id: string } | undefined> {
  return db
    .selectFrom("trusted_device")
    .select("id")
    .where("token_hash", "=", tokenHash)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
}

export async function listLiveDevices(db: Kysely<Database>, userId: string, now: number): Promise<TrustedDeviceRow[]> {
  return db
    .selectFrom("trusted_device")
    .selectAll()
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .orderBy("created_at", "desc")
    .execute();
}

export async function revokeDevice(db: Kysely<Database>, userId: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("trusted_device")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function revokeUserDevices(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db
    .updateTable("trusted_device")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
}

/** For the "new sign-in" notice (login/): whether the user ever remembered a device with this user agent. */
export async function hasDeviceFromUserAgent(
  db: Kysely<Database>,
  userId: string,
  userAgent: string | null,
): Promise<boolean> {
  const device = await db
    .selectFrom("trusted_device")
    .select("id")
    .where("user_id", "=", userId)
    .where("user_agent", userAgent === null ? "is" : "=", userAgent)
    .limit(1)
    .executeTakeFirst();
  return device !== undefined;
}

export async function deleteUserDevices(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("trusted_device").where("user_id", "=", userId).execute();
}

/** Deletes up to `limit` expired trusted devices (revoked or not); how many it deleted. */
export const purgeExpiredDevices = (db: Kysely<Database>, now: number, limit: number): Promise<number> =>
  purgeExpiredRows(db, "trusted_device", now, limit);
