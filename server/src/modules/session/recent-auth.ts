import { BearerError } from "../../errors.js";
import type { AuthContext } from "./session.types.js";

/*
 * SPEC "Re-authentication": sensitive actions need a sign-in (or a re-authentication) at most
 * REAUTH_MAX_AGE seconds old, read from the access token's `auth_time`. A refresh keeps `auth_time`,
 * so neither a stolen access token nor a stolen refresh token makes an old sign-in recent again.
 */

/** Whether the token's sign-in is at most `maxAgeSeconds` old at `nowMs`. */
export function isRecentAuth(auth: Pick<AuthContext, "authTime">, nowMs: number, maxAgeSeconds: number): boolean {
  return Math.floor(nowMs / 1000) - auth.authTime <= maxAgeSeconds;
}

/** 401 `reauth_required`, with the RFC 9470 challenge that names the age a sign-in may have. */
export function reauthRequired(maxAgeSeconds: number): BearerError {
  return new BearerError("reauth_required", {
    error: "insufficient_user_authentication",
    description: "A more recent sign-in is required",
    maxAge: maxAgeSeconds,
  });
}
