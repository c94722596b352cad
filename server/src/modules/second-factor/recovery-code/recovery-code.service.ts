import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../../../clock.js";
import { hashSecret } from "../../../crypto/hash.js";
import { randomId } from "../../../crypto/random.js";
import type { Database } from "../../../db/database.js";
import { AppError } from "../../../errors.js";
import { encodeBase32 } from "../../../otp/base32.js";
import type { AuditService } from "../../audit/audit.service.js";
import type { SecondFactor } from "../second-factor.js";
import * as repo from "./recovery-code.repository.js";

export const recoveryCodeCount = 10;
const recoveryCodeBytes = 10; // 80 random bits each, written as 16 base32 characters

/** Upper case, no separators or spaces: "abcd-efgh ijkl-mnop" and "ABCDEFGHIJKLMNOP" are one code. */
export function normalizeRecoveryCode(code: string): string {
  return code.normalize("NFKC").replace(/[\s-]/g, "").toUpperCase();
}

function formatCode(raw: string): string {
  return raw.match(/.{1,4}/g)?.join("-") ?? raw;
}

/**
 * Recovery codes as a second factor: `enroll` replaces the user's set with fresh codes and returns
 * them in clear text, to be shown exactly once; each is stored as a SHA-256 hash in its own row.
 */
export type RecoveryCodeFactor = SecondFactor<{ code: string }, string[]>;

export function createRecoveryCodeFactor(deps: { clock: Clock; audit: AuditService }): RecoveryCodeFactor {
  const { clock, audit } = deps;
  return {
    method: "recovery",

    async check(userId, proof, meta, executor) {
      const normalized = normalizeRecoveryCode(proof.code);
      const redeemed =
        /^[A-Z2-7]{16}$/.test(normalized) &&
        (await repo.consumeRecoveryCode(executor, userId, hashSecret(normalized), clock.now()));
      if (!redeemed) {
        await audit.record(
          { type: "mfa_failed", userId, meta, detail: { method: "recovery_code", reason: "invalid" } },
          executor,
        );
        throw new AppError("invalid_otp", "The recovery code is not valid.");
      }
      await audit.record({ type: "recovery_code_used", userId, meta }, executor);
    },

    async enroll(userId: string, executor: Kysely<Database>) {
      const codes = Array.from({ length: recoveryCodeCount }, () =>
        formatCode(encodeBase32(randomBytes(recoveryCodeBytes))),
      );
      await repo.replaceRecoveryCodes(
        executor,
        userId,
        codes.map((code) => ({ id: randomId(), code_hash: hashSecret(normalizeRecoveryCode(code)) })),
        clock.now(),
      );
      return codes;
    },

    remove: (userId, executor) => repo.deleteRecoveryCodes(executor, userId),

    async list(userId, executor) {
      const rows = await repo.listUnusedRecoveryCodes(executor, userId);
      return rows.map((row) => ({ id: row.id, createdAt: row.created_at }));
    },
  };
}
