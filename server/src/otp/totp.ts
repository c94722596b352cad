import { timingSafeEqual } from "node:crypto";
import { generateHOTP } from "./hotp.js";
import type { OTPAlgorithm } from "./hotp.js";

export interface TOTPParams {
  /** HMAC hash function. @default "SHA1" */
  algorithm: OTPAlgorithm;
  /** Code length, 6 to 8. @default 6 */
  digits: number;
  /** Length of one time step (RFC 6238 "X"). @default 30 */
  periodInSeconds: number;
  /** Steps accepted on each side of the current one for clock drift (RFC 6238 §5.2). @default 1 */
  windowSteps: number;
}

// Frozen because it is shared by every caller that does not pass its own parameters.
export const defaultTOTPParams: TOTPParams = Object.freeze({
  algorithm: "SHA1",
  digits: 6,
  periodInSeconds: 30, // RFC 6238 §5.2 recommends 30 seconds
  windowSteps: 1,
});

/** RFC 6238 §4.2: T = floor((now - T0) / X) with T0 = 0. */
export function timeStep(nowInSeconds: number, periodInSeconds: number): bigint {
  if (!Number.isSafeInteger(periodInSeconds) || periodInSeconds <= 0) {
    throw new RangeError("periodInSeconds must be a positive integer");
  }
  if (!Number.isFinite(nowInSeconds) || nowInSeconds < 0) {
    throw new RangeError("nowInSeconds must be a finite, non-negative number");
  }
  return BigInt(Math.floor(nowInSeconds / periodInSeconds));
}

/** The TOTP code for the time step containing `nowInSeconds`. */
export function generateTOTP(key: Uint8Array, nowInSeconds: number, params: TOTPParams): string {
  const step = timeStep(nowInSeconds, params.periodInSeconds);
  return generateHOTP(key, step, params.digits, params.algorithm);
}

/**
 * Checks `otp` against the current time step, then the steps up to `windowSteps` either side.
 * Returns the matched step, so the caller can reject a replay of that step, or null.
 * Only exactly `digits` ASCII digits are accepted; callers strip spaces first if they allow them.
 */
export function verifyTOTP(key: Uint8Array, otp: string, params: TOTPParams, nowInSeconds: number): bigint | null {
  if (!Number.isSafeInteger(params.windowSteps) || params.windowSteps < 0) {
    throw new RangeError("windowSteps must be a non-negative integer");
  }
  const current = timeStep(nowInSeconds, params.periodInSeconds);
  // Generating once up front validates `digits` and `algorithm` even when the input is malformed.
  const currentCode = generateHOTP(key, current, params.digits, params.algorithm);
  // [0-9], not \d or Number(): only ASCII digits, so fullwidth or Arabic-Indic digits never match.
  if (otp.length !== params.digits || !/^[0-9]+$/.test(otp)) {
    return null;
  }
  const candidate = Buffer.from(otp, "ascii");
  // RFC 6238 §5.2: accept up to windowSteps of clock drift, nearest steps first.
  const offsets = [0n];
  for (let distance = 1n; distance <= BigInt(params.windowSteps); distance++) {
    offsets.push(-distance, distance);
  }
  for (const offset of offsets) {
    const step = current + offset;
    if (step < 0n) {
      continue;
    }
    const expected = offset === 0n ? currentCode : generateHOTP(key, step, params.digits, params.algorithm);
    // Constant-time: both are `digits` ASCII bytes long, so timingSafeEqual never throws on length.
    if (timingSafeEqual(Buffer.from(expected, "ascii"), candidate)) {
      return step;
    }
  }
  return null;
}
