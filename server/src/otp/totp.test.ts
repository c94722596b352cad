import { randomBytes, randomInt } from "node:crypto";
import * as OTPAuth from "otpauth";
import { describe, it, expect } from "vitest";
import { encodeBase32 } from "./base32.js";
import type { OTPAlgorithm } from "./hotp.js";
import { defaultTOTPParams, generateTOTP, timeStep, verifyTOTP } from "./totp.js";
import type { TOTPParams } from "./totp.js";

// RFC 6238 Appendix B: each algorithm uses the ASCII "1234567890" pattern cut to its own hash length.
const seedOfLength = (length: number): Uint8Array => new TextEncoder().encode("1234567890".repeat(7).slice(0, length));
const seeds: Record<OTPAlgorithm, Uint8Array> = {
  SHA1: seedOfLength(20),
  SHA256: seedOfLength(32),
  SHA512: seedOfLength(64),
};

const rfcParams = (algorithm: OTPAlgorithm): TOTPParams => ({ ...defaultTOTPParams, algorithm, digits: 8 });

// RFC 6238 Appendix B test vectors: 8 digits, 30-second steps, T0 = 0.
const rfc6238Vectors: { nowInSeconds: number; algorithm: OTPAlgorithm; totp: string }[] = [
  { nowInSeconds: 59, algorithm: "SHA1", totp: "94287082" },
  { nowInSeconds: 59, algorithm: "SHA256", totp: "46119246" },
  { nowInSeconds: 59, algorithm: "SHA512", totp: "90693936" },
  { nowInSeconds: 1111111109, algorithm: "SHA1", totp: "07081804" },
  { nowInSeconds: 1111111109, algorithm: "SHA256", totp: "68084774" },
  { nowInSeconds: 1111111109, algorithm: "SHA512", totp: "25091201" },
  { nowInSeconds: 1111111111, algorithm: "SHA1", totp: "14050471" },
  { nowInSeconds: 1111111111, algorithm: "SHA256", totp: "67062674" },
  { nowInSeconds: 1111111111, algorithm: "SHA512", totp: "99943326" },
  { nowInSeconds: 1234567890, algorithm: "SHA1", totp: "89005924" },
  { nowInSeconds: 1234567890, algorithm: "SHA256", totp: "91819424" },
  { nowInSeconds: 1234567890, algorithm: "SHA512", totp: "93441116" },
  { nowInSeconds: 2000000000, algorithm: "SHA1", totp: "69279037" },
  { nowInSeconds: 2000000000, algorithm: "SHA256", totp: "90698825" },
  { nowInSeconds: 2000000000, algorithm: "SHA512", totp: "38618901" },
  { nowInSeconds: 20000000000, algorithm: "SHA1", totp: "65353130" },
  { nowInSeconds: 20000000000, algorithm: "SHA256", totp: "77737706" },
  { nowInSeconds: 20000000000, algorithm: "SHA512", totp: "47863826" },
];

describe("timeStep", () => {
  it.each([
    { nowInSeconds: 0, step: 0n },
    { nowInSeconds: 29, step: 0n },
    { nowInSeconds: 29.999, step: 0n },
    { nowInSeconds: 30, step: 1n },
    { nowInSeconds: 59, step: 1n },
    { nowInSeconds: 1111111109, step: 0x23523ecn },
    { nowInSeconds: 20000000000, step: 0x27bc86aan },
  ])("puts second $nowInSeconds in step $step of 30 seconds", ({ nowInSeconds, step }) => {
    expect(timeStep(nowInSeconds, 30)).toBe(step);
  });

  it.each([0, -30, 1.5, Number.NaN])("throws a RangeError for a period of %s seconds", (periodInSeconds) => {
    expect(() => timeStep(59, periodInSeconds)).toThrow(RangeError);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("throws a RangeError for a time of %s", (nowInSeconds) => {
    expect(() => timeStep(nowInSeconds, 30)).toThrow(RangeError);
  });
});

describe("generateTOTP", () => {
  it.each(rfc6238Vectors)(
    "produces $totp with $algorithm at T = $nowInSeconds (RFC 6238 Appendix B)",
    ({ nowInSeconds, algorithm, totp }) => {
      expect(generateTOTP(seeds[algorithm], nowInSeconds, rfcParams(algorithm))).toBe(totp);
    },
  );

  it("uses SHA-1, 6 digits and 30-second steps by default", () => {
    expect(defaultTOTPParams).toEqual({ algorithm: "SHA1", digits: 6, periodInSeconds: 30, windowSteps: 1 });
    expect(generateTOTP(seeds.SHA1, 59, defaultTOTPParams)).toBe("287082");
  });

  it("throws a RangeError for digits outside 6 to 8", () => {
    expect(() => generateTOTP(seeds.SHA1, 59, { ...defaultTOTPParams, digits: 9 })).toThrow(RangeError);
  });
});

describe("verifyTOTP", () => {
  it.each(rfc6238Vectors)(
    "accepts the RFC 6238 vector $totp for $algorithm at T = $nowInSeconds and returns its step",
    ({ nowInSeconds, algorithm, totp }) => {
      const step = BigInt(Math.floor(nowInSeconds / 30));
      expect(verifyTOTP(seeds[algorithm], totp, rfcParams(algorithm), nowInSeconds)).toBe(step);
    },
  );

  it("rejects a SHA-512 code computed with the 20-byte SHA-1 seed instead of the 64-byte seed", () => {
    // A common implementation bug reuses the 20-byte seed for every algorithm; it yields 69342147 at T = 59.
    expect(generateTOTP(seeds.SHA1, 59, rfcParams("SHA512"))).toBe("69342147");
    expect(generateTOTP(seeds.SHA512, 59, rfcParams("SHA512"))).toBe("90693936");
    expect(verifyTOTP(seeds.SHA512, "69342147", rfcParams("SHA512"), 59)).toBeNull();
  });

  // Step 37037036 starts at 1111111080, so this instant is in the middle of a step.
  const nowInSeconds = 1111111095;
  const currentStep = 37037036n;
  const params = defaultTOTPParams;
  const codeAt = (offsetInSteps: number): string =>
    generateTOTP(seeds.SHA1, nowInSeconds + offsetInSteps * params.periodInSeconds, params);

  it.each([
    { description: "the current step", offsetInSteps: 0, expected: currentStep },
    { description: "the previous step", offsetInSteps: -1, expected: currentStep - 1n },
    { description: "the next step", offsetInSteps: 1, expected: currentStep + 1n },
    { description: "two steps ago", offsetInSteps: -2, expected: null },
    { description: "two steps ahead", offsetInSteps: 2, expected: null },
  ])("returns $expected for a code from $description with a window of one step", ({ offsetInSteps, expected }) => {
    expect(verifyTOTP(seeds.SHA1, codeAt(offsetInSteps), params, nowInSeconds)).toBe(expected);
  });

  it("accepts a code from two steps away when the window is two steps", () => {
    const wide = { ...params, windowSteps: 2 };
    expect(verifyTOTP(seeds.SHA1, codeAt(-2), wide, nowInSeconds)).toBe(currentStep - 2n);
    expect(verifyTOTP(seeds.SHA1, codeAt(2), wide, nowInSeconds)).toBe(currentStep + 2n);
  });

  it("accepts only the current step when the window is zero", () => {
    const strict = { ...params, windowSteps: 0 };
    expect(verifyTOTP(seeds.SHA1, codeAt(0), strict, nowInSeconds)).toBe(currentStep);
    expect(verifyTOTP(seeds.SHA1, codeAt(-1), strict, nowInSeconds)).toBeNull();
  });

  it("never looks at steps before zero", () => {
    expect(verifyTOTP(seeds.SHA1, generateTOTP(seeds.SHA1, 0, params), params, 10)).toBe(0n);
  });

  it("rejects a correct code checked with the wrong key", () => {
    expect(verifyTOTP(seeds.SHA256, codeAt(0), params, nowInSeconds)).toBeNull();
  });

  const code = codeAt(0);
  const toFullwidth = (digits: string): string =>
    [...digits].map((digit) => String.fromCodePoint(0xff10 + Number(digit))).join("");
  const toArabicIndic = (digits: string): string =>
    [...digits].map((digit) => String.fromCodePoint(0x0660 + Number(digit))).join("");
  // U+0130–U+0139 have ASCII digits as their low byte, so Buffer.from(otp, "ascii") alone would accept them.
  const toLowByteDigits = (digits: string): string =>
    [...digits].map((digit) => String.fromCodePoint(0x0130 + Number(digit))).join("");

  it.each([
    { description: "an empty string", otp: "" },
    { description: "a space inside", otp: `${code.slice(0, 3)} ${code.slice(3)}` },
    { description: "a leading space", otp: ` ${code}` },
    { description: "a trailing newline", otp: `${code}\n` },
    { description: "letters", otp: "12a456" },
    { description: "a sign", otp: `+${code.slice(1)}` },
    { description: "5 digits", otp: code.slice(0, 5) },
    { description: "7 digits", otp: `${code}0` },
    { description: "fullwidth digits", otp: "１２３４５６" },
    { description: "the right code in fullwidth digits", otp: toFullwidth(code) },
    { description: "the right code in Arabic-Indic digits", otp: toArabicIndic(code) },
    { description: "the right code in characters whose low byte is a digit", otp: toLowByteDigits(code) },
  ])("returns null for $description", ({ otp }) => {
    expect(verifyTOTP(seeds.SHA1, otp, params, nowInSeconds)).toBeNull();
  });

  it.each([
    { description: "digits outside 6 to 8", invalid: { ...params, digits: 10 } },
    { description: "a negative window", invalid: { ...params, windowSteps: -1 } },
    { description: "a zero period", invalid: { ...params, periodInSeconds: 0 } },
  ])("throws a RangeError for $description, even for a malformed code", ({ invalid }) => {
    expect(() => verifyTOTP(seeds.SHA1, "x", invalid, nowInSeconds)).toThrow(RangeError);
  });
});

describe("cross-check with the otpauth package", () => {
  const algorithms: OTPAlgorithm[] = ["SHA1", "SHA256", "SHA512"];
  const samples = algorithms.flatMap((algorithm) =>
    Array.from({ length: 20 }, () => ({
      algorithm,
      key: new Uint8Array(randomBytes(randomInt(10, 65))),
      digits: randomInt(6, 9),
      periodInSeconds: [30, 60, 15][randomInt(0, 3)] ?? 30,
      nowInSeconds: randomInt(0, 2 ** 40),
    })),
  );
  const otpauthTOTP = (sample: (typeof samples)[number], secret: OTPAuth.Secret): OTPAuth.TOTP =>
    new OTPAuth.TOTP({
      secret,
      algorithm: sample.algorithm,
      digits: sample.digits,
      period: sample.periodInSeconds,
    });

  it.each(samples)(
    "generates the same code as otpauth for a random $algorithm secret, $digits digits, at T = $nowInSeconds",
    (sample) => {
      const params: TOTPParams = { ...sample, windowSteps: 1 };
      const secret = OTPAuth.Secret.fromHex(Buffer.from(sample.key).toString("hex"));
      const expected = otpauthTOTP(sample, secret).generate({ timestamp: sample.nowInSeconds * 1000 });
      expect(generateTOTP(sample.key, sample.nowInSeconds, params)).toBe(expected);
    },
  );

  it.each(samples)(
    "verifies a code otpauth generated from a random $algorithm base32 secret at T = $nowInSeconds",
    (sample) => {
      const params: TOTPParams = { ...sample, windowSteps: 1 };
      const secret = OTPAuth.Secret.fromBase32(encodeBase32(sample.key));
      const otp = otpauthTOTP(sample, secret).generate({ timestamp: sample.nowInSeconds * 1000 });
      expect(verifyTOTP(sample.key, otp, params, sample.nowInSeconds)).toBe(
        timeStep(sample.nowInSeconds, sample.periodInSeconds),
      );
    },
  );
});
