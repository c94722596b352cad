import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { hashSecret } from "../../crypto/hash.js";
import { randomId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { encodeBase32 } from "../../otp/base32.js";
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

/** Replaces the user's set with fresh codes; returns them in clear text, to be shown exactly once. */
export async function generateRecoveryCodes(db: Kysely<Database>, userId: string, now: number): Promise<string[]> {
  const codes = Array.from({ length: recoveryCodeCount }, () =>
    formatCode(encodeBase32(randomBytes(recoveryCodeBytes))),
  );
  await repo.replaceRecoveryCodes(
    db,
    userId,
    codes.map((code) => ({ id: randomId(), code_hash: hashSecret(normalizeRecoveryCode(code)) })),
    now,
  );
  return codes;
}

export async function redeemRecoveryCode(
  db: Kysely<Database>,
  userId: string,
  code: string,
  now: number,
): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (!/^[A-Z2-7]{16}$/.test(normalized)) return false;
  return repo.consumeRecoveryCode(db, userId, hashSecret(normalized), now);
}
