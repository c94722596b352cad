import { createHmac } from "node:crypto";

export type OTPAlgorithm = "SHA1" | "SHA256" | "SHA512";

const hashNames: Readonly<Record<OTPAlgorithm, string>> = {
  SHA1: "sha1",
  SHA256: "sha256",
  SHA512: "sha512",
};

const maxCounter = 2n ** 64n - 1n; // RFC 4226 §5.1: the counter is an 8-byte value

/**
 * RFC 4226 HOTP: HMAC of the big-endian 8-byte counter, dynamically truncated to `digits` decimal digits.
 * Throws a RangeError for `digits` outside 6–8 or a counter outside 0…2^64−1.
 */
export function generateHOTP(key: Uint8Array, counter: bigint, digits = 6, algorithm: OTPAlgorithm = "SHA1"): string {
  // RFC 4226 §5.3: a code has at least 6 digits, and possibly 7 or 8.
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) {
    throw new RangeError("digits must be an integer from 6 to 8");
  }
  if (counter < 0n || counter > maxCounter) {
    throw new RangeError("counter must be between 0 and 2^64 - 1");
  }
  const hashName = hashNames[algorithm];
  if (hashName === undefined) {
    throw new TypeError("Unsupported OTP algorithm");
  }
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(hashName, key).update(message).digest();
  // RFC 4226 §5.3 dynamic truncation: the low 4 bits of the last byte pick an offset, and the top bit
  // of the 4 bytes read there is masked off so the result is the same signed or unsigned.
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, "0");
}
