import { createHash } from "node:crypto";

/**
 * SHA-256 of a high-entropy secret (refresh tokens, link tokens, recovery codes, login tokens).
 * A fast hash is enough because the input has >= 64 random bits; a leaked database alone logs nobody in.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
