import { describe, it, expect } from "vitest";
import { generateHOTP } from "./hotp.js";

const rfc4226Secret = new TextEncoder().encode("12345678901234567890");

// RFC 4226 Appendix D: HOTP values for counters 0–9 with the ASCII secret "12345678901234567890".
const rfc4226Vectors = [
  { counter: 0n, hotp: "755224" },
  { counter: 1n, hotp: "287082" },
  { counter: 2n, hotp: "359152" },
  { counter: 3n, hotp: "969429" },
  { counter: 4n, hotp: "338314" },
  { counter: 5n, hotp: "254676" },
  { counter: 6n, hotp: "287922" },
  { counter: 7n, hotp: "162583" },
  { counter: 8n, hotp: "399871" },
  { counter: 9n, hotp: "520489" },
];

describe("generateHOTP", () => {
  it.each(rfc4226Vectors)("produces $hotp for counter $counter (RFC 4226 Appendix D)", ({ counter, hotp }) => {
    expect(generateHOTP(rfc4226Secret, counter)).toBe(hotp);
    expect(generateHOTP(rfc4226Secret, counter, 6, "SHA1")).toBe(hotp);
  });

  it("keeps leading zeros so the code always has the requested length", () => {
    // RFC 6238 Appendix B: SHA-1 at T = 1111111109 (step 0x23523EC) is "07081804".
    expect(generateHOTP(rfc4226Secret, 0x23523ecn, 8)).toBe("07081804");
  });

  it("accepts the largest 8-byte counter", () => {
    expect(generateHOTP(rfc4226Secret, 2n ** 64n - 1n)).toMatch(/^[0-9]{6}$/);
  });

  it.each([
    { description: "5 digits", digits: 5 },
    { description: "9 digits", digits: 9 },
    { description: "0 digits", digits: 0 },
    { description: "a fractional digit count", digits: 6.5 },
    { description: "NaN digits", digits: Number.NaN },
  ])("throws a RangeError for $description", ({ digits }) => {
    expect(() => generateHOTP(rfc4226Secret, 0n, digits)).toThrow(RangeError);
  });

  it.each([
    { description: "a negative counter", counter: -1n },
    { description: "a counter wider than 8 bytes", counter: 2n ** 64n },
  ])("throws a RangeError for $description", ({ counter }) => {
    expect(() => generateHOTP(rfc4226Secret, counter)).toThrow(RangeError);
  });
});
