// RFC 4648 §6: the base32 alphabet, the encoding used for TOTP secrets in key URIs.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// An explicit per-character table rather than toUpperCase(): Unicode case mapping would turn
// 'ſ' (U+017F) into 'S' or 'ß' into "SS" and so accept characters that are not base32.
const decodeTable: ReadonlyMap<string, number> = new Map(
  [...alphabet].flatMap((char, value) => [
    [char, value],
    [char.toLowerCase(), value],
  ]),
);

/** Encodes bytes as RFC 4648 base32: upper case, without '=' padding (as authenticator apps expect). */
export function encodeBase32(bytes: Uint8Array): string {
  let result = "";
  let buffer = 0;
  let bitCount = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bitCount += 8;
    while (bitCount >= 5) {
      bitCount -= 5;
      result += alphabet.charAt((buffer >>> bitCount) & 0x1f);
    }
    buffer &= (1 << bitCount) - 1;
  }
  if (bitCount > 0) {
    result += alphabet.charAt((buffer << (5 - bitCount)) & 0x1f);
  }
  return result;
}

/**
 * Decodes RFC 4648 base32, case-insensitively, ignoring spaces and '=' padding.
 * Throws a TypeError on any other character or on a length no encoder can produce.
 */
export function decodeBase32(text: string): Uint8Array {
  const chars = [...text].filter((char) => char !== " " && char !== "=");
  // RFC 4648 §6: a final quantum carries 8, 16, 24 or 32 bits, so 1, 3 or 6 trailing characters are impossible.
  if ([1, 3, 6].includes(chars.length % 8)) {
    throw new TypeError("Invalid base32 length");
  }
  const result = new Uint8Array(Math.floor((chars.length * 5) / 8));
  let buffer = 0;
  let bitCount = 0;
  let index = 0;
  for (const char of chars) {
    const value = decodeTable.get(char);
    if (value === undefined) {
      throw new TypeError("Invalid base32 character");
    }
    buffer = (buffer << 5) | value;
    bitCount += 5;
    if (bitCount >= 8) {
      bitCount -= 8;
      result[index++] = (buffer >>> bitCount) & 0xff;
    }
    buffer &= (1 << bitCount) - 1;
  }
  return result;
}
