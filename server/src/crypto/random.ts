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

const timeDigits = 9; // 36^9 ms reach the year 5188

/** Unix ms in 9 base-36 digits: fixed width, so the text sorts as the number it spells. */
function timePrefix(at: number): string {
  if (!Number.isFinite(at) || at < 0 || at >= 36 ** timeDigits) throw new RangeError("at must be Unix milliseconds");
  return Math.floor(at).toString(36).padStart(timeDigits, "0");
}

/**
 * A row identifier that sorts by creation time: `at` (Unix ms) in 9 base-36 digits, then `randomBytes` random
 * bytes as base64url (16, 128 bits, by default: 31 characters). Rows inserted one after another land at the end
 * of the index on their ID, one page for many rows, where a random ID lands on a random page of it: an INSERT
 * writes one page fewer per index keyed on the ID (the row's own and every foreign key's).
 * The time of creation can be read off it: only for rows whose creation time is no secret.
 */
export function timeOrderedId(at: number, randomBytes = 16): string {
  return timePrefix(at) + randomBase64url(randomBytes);
}

let sequence = 0;

/**
 * A time-ordered ID with this process's sequence number (4 base-36 digits) between the time and the random
 * bytes: the IDs one process makes within one millisecond sort in the order it made them (audit events and
 * outgoing mail are listed in that order).
 */
export function sequencedTimeId(at: number, randomBytes: number): string {
  const prefix = timePrefix(at);
  sequence = (sequence + 1) % 36 ** 4;
  return prefix + sequence.toString(36).padStart(4, "0") + randomBase64url(randomBytes);
}
