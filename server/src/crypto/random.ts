import { randomFillSync } from "node:crypto";

// The CSPRNG is called for 4 KiB at a time, not once per token: for short tokens the cost of a call,
// not of its bytes, dominates (as Node's own randomUUID pools). Every byte is handed out once and
// zeroed as it is.
const pool = Buffer.alloc(4096);
let used = pool.length;

/** `bytes` fresh random bytes, as base64url text. */
export function randomBase64url(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > pool.length)
    throw new RangeError("bytes must be a whole number from 1 to 4096");
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const text = pool.toString("base64url", used, used + bytes);
  // Issued tokens do not linger in the pool until its next refill.
  pool.fill(0, used, used + bytes);
  used += bytes;
  return text;
}

/** A URL-safe random token carrying `bits` of entropy. */
export function randomToken(bits: number): string {
  if (bits % 8 !== 0 || bits < 128) throw new RangeError("bits must be a multiple of 8 and at least 128");
  return randomBase64url(bits / 8);
}

/** A random identifier for rows (128 bits). */
export function randomId(): string {
  return randomBase64url(16);
}
