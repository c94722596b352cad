// TOTP helpers for the prepared two-factor users (otpauth, 30-s steps).
import * as OTPAuth from "otpauth";
import { setTimeout as sleep } from "node:timers/promises";

export const PERIOD_MS = 30_000;

export const currentStep = (now = Date.now()) => Math.floor(now / PERIOD_MS);

/** A TOTP generator from an otpauth:// URI. */
export const totpFromUri = (uri) => OTPAuth.URI.parse(uri);

/**
 * Servers that reject a code already used in the same step (Tessera does) need each user's next
 * code to come from a later step than the last one used. Waits, if needed, until the current step
 * is past every user's `lastStep`; returns the step to generate codes for.
 */
export async function stepAfter(users, log) {
  const last = users.reduce((max, user) => Math.max(max, user.lastStep ?? -1), -1);
  let step = currentStep();
  if (step <= last) {
    const waitMs = (last + 1) * PERIOD_MS - Date.now() + 50;
    log?.(`waiting ${(waitMs / 1000).toFixed(1)} s for the next TOTP step (replay protection)`);
    await sleep(waitMs);
    step = currentStep();
  }
  return step;
}

/** The code for `step`, recorded on the user as its last used step. */
export function codeFor(user, step) {
  user.lastStep = step;
  return user.totp.generate({ timestamp: step * PERIOD_MS + 1 });
}
