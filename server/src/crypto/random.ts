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

/** base64url's 64 characters in ASCII order: a fixed-length text of them sorts as the number it spells. */
const sortedAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const timeDigits = 8; // 64^8 = 2^48 ms, past the year 10,000

/**
 * A row identifier that sorts by creation time: `at` (Unix ms) in 8 characters of base64url's alphabet, in
 * ASCII order, then 128 random bits: 30 URL-safe characters. Rows inserted one after another land at the end
 * of the index on their ID, one page for many rows, where a random ID lands on a random page of it: an
 * INSERT writes one page fewer per index keyed on the ID (the row's own and every foreign key's).
 * The time of creation can be read off it: only for rows whose creation time is no secret.
 */
export function timeOrderedId(at: number): string {
  if (!Number.isFinite(at) || at < 0 || at >= 64 ** timeDigits) throw new RangeError("at must be Unix milliseconds");
  let prefix = "";
  for (let rest = Math.floor(at), i = 0; i < timeDigits; i++, rest = Math.floor(rest / 64))
    prefix = sortedAlphabet[rest % 64] + prefix;
  return prefix + randomBase64url(16);
}
