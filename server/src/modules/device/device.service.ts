import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomId, randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";

export interface TrustedDeviceView {
  id: string;
  created_at: string;
  expires_at: string;
  user_agent: string | null;
}

/** "Remember this device": a random token in a signed cookie, stored hashed, revocable (SPEC §2). */
export interface DeviceService {
  readonly enabled: boolean;
  readonly maxAgeSeconds: number;
  remember(userId: string, userAgent: string | null): Promise<string>;
  isTrusted(userId: string, cookieValue: string | undefined): Promise<boolean>;
  list(userId: string): Promise<TrustedDeviceView[]>;
  revoke(userId: string, id: string): Promise<boolean>;
  revokeAll(userId: string, executor?: Kysely<Database>): Promise<void>;
}

export function createDeviceService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  trustedDeviceDays: number;
}): DeviceService {
  const { db, clock } = deps;
  const maxAgeSeconds = deps.trustedDeviceDays * 24 * 60 * 60;
  const service: DeviceService = {
    enabled: deps.trustedDeviceDays > 0,
    maxAgeSeconds,
    async remember(userId, userAgent) {
      const token = randomToken(256);
      const now = clock.now();
      await db
        .insertInto("trusted_device")
        .values({
          id: randomId(),
          user_id: userId,
          token_hash: hashSecret(token),
          created_at: now,
          expires_at: now + maxAgeSeconds * 1000,
          revoked_at: null,
          user_agent: userAgent?.slice(0, 255) ?? null,
        })
        .execute();
      return token;
    },
    async isTrusted(userId, cookieValue) {
      if (!service.enabled || cookieValue === undefined || cookieValue === "") return false;
      const row = await db
        .selectFrom("trusted_device")
        .select("id")
        .where("token_hash", "=", hashSecret(cookieValue))
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", clock.now())
        .executeTakeFirst();
      return row !== undefined;
    },
    async list(userId) {
      const rows = await db
        .selectFrom("trusted_device")
        .selectAll()
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", clock.now())
        .orderBy("created_at", "desc")
        .execute();
      return rows.map((row) => ({
        id: row.id,
        created_at: new Date(row.created_at).toISOString(),
        expires_at: new Date(row.expires_at).toISOString(),
        user_agent: row.user_agent,
      }));
    },
    async revoke(userId, id) {
      const result = await db
        .updateTable("trusted_device")
        .set({ revoked_at: clock.now() })
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    async revokeAll(userId, executor = db) {
      await executor
        .updateTable("trusted_device")
        .set({ revoked_at: clock.now() })
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .execute();
    },
  };
  return service;
}
