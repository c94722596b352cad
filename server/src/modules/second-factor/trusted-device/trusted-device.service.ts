import type { Kysely } from "kysely";
import type { Clock } from "../../../clock.js";
import { hashSecret } from "../../../crypto/hash.js";
import { randomId, randomToken } from "../../../crypto/random.js";
import type { Database } from "../../../db/database.js";
import { AppError } from "../../../errors.js";
import type { RequestMeta } from "../../../request-meta.js";
import type { AuditService } from "../../audit/audit.service.js";
import * as repo from "./trusted-device.repository.js";

export interface TrustedDeviceView {
  id: string;
  created_at: string;
  expires_at: string;
  user_agent: string | null;
}

/** "Remember this device": a random token in a signed cookie, stored hashed, revocable (SPEC §2). */
export interface TrustedDeviceService {
  readonly enabled: boolean;
  readonly maxAgeSeconds: number;
  /** A new trusted device for the browser of `meta`; audited, since it skips the second factor. Its token. */
  remember(userId: string, meta: RequestMeta): Promise<string>;
  isTrusted(userId: string, cookieValue: string | undefined): Promise<boolean>;
  list(userId: string): Promise<TrustedDeviceView[]>;
  /** Throws not_found when the user has no such live device. */
  revoke(userId: string, id: string, meta: RequestMeta): Promise<void>;
  revokeAll(userId: string, executor?: Kysely<Database>): Promise<void>;
}

export function createTrustedDeviceService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  trustedDeviceDays: number;
}): TrustedDeviceService {
  const { db, clock, audit } = deps;
  const maxAgeSeconds = deps.trustedDeviceDays * 24 * 60 * 60;
  const enabled = deps.trustedDeviceDays > 0;
  return {
    enabled,
    maxAgeSeconds,
    async remember(userId, meta) {
      const token = randomToken(256);
      const now = clock.now();
      await repo.insertTrustedDevice(db, {
        id: randomId(),
        user_id: userId,
        token_hash: hashSecret(token),
        created_at: now,
        expires_at: now + maxAgeSeconds * 1000,
        revoked_at: null,
        user_agent: meta.userAgent?.slice(0, 255) ?? null,
      });
      // A trusted device skips the second factor for TRUSTED_DEVICE_DAYS: the user must see it was added.
      await audit.record({ type: "trusted_device_added", userId, meta });
      return token;
    },
    async isTrusted(userId, cookieValue) {
      if (!enabled || cookieValue === undefined || cookieValue === "") return false;
      return (await repo.findLiveDevice(db, userId, hashSecret(cookieValue), clock.now())) !== undefined;
    },
    async list(userId) {
      const rows = await repo.listLiveDevices(db, userId, clock.now());
      return rows.map((row) => ({
        id: row.id,
        created_at: new Date(row.created_at).toISOString(),
        expires_at: new Date(row.expires_at).toISOString(),
        user_agent: row.user_agent,
      }));
    },
    async revoke(userId, id, meta) {
      if (!(await repo.revokeDevice(db, userId, id, clock.now())))
        throw new AppError("not_found", "No such trusted device.");
      await audit.record({ type: "trusted_device_revoked", userId, meta, detail: { device_id: id } });
    },
    revokeAll: (userId, executor = db) => repo.revokeUserDevices(executor, userId, clock.now()),
  };
}
