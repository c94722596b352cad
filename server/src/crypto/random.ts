import { randomBytes } from "node:crypto";

/** A URL-safe random token carrying `bits` of entropy. */
export function randomToken(bits: number): string {
  if (bits % 8 !== 0 || bits < 128) throw new RangeError("bits must be a multiple of 8 and at least 128");
  return randomBytes(bits / 8).toString("base64url");
}

/** A random identifier for rows (128 bits). */
export function randomId(): string {
  return randomBytes(16).toString("base64url");
}
