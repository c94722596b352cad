import type { JWTPayload } from "jose";

/** RFC 8176 values; "device" is a remembered browser, "hwk" a passkey, "user" a passkey that verified the person. */
export type AuthMethod = "pwd" | "email" | "otp" | "recovery" | "device" | "hwk" | "user";

/** The claims Tessera reads back from its own access tokens (besides `iss` and `aud`, which verification checks). */
export interface AccessClaims {
  sub: string;
  sid: string;
  /** Unique per token (RFC 9068 §2.2). */
  jti: string;
  amr: AuthMethod[];
  aal: 1 | 2;
  /** When the person last proved a factor, Unix seconds (OIDC Core §2); re-authentication renews it. */
  auth_time: number;
  iat: number;
  exp: number;
  /** The user's roles when the token was issued, for other applications (the guard reads them live). */
  roles?: string[];
  /** Set when the two-factor policy wanted a second factor the user did not have yet (SPEC §2 "Admin and policy"). */
  enrollment_required?: true;
}

/** RFC 9068 §2.1: access tokens say what they are in their header, so no ID token or other JWT passes for one. */
export const accessTokenType = "at+jwt";

/** The claims of a verified payload, or null when one is missing or of the wrong type. */
export function claimsFrom(payload: JWTPayload): AccessClaims | null {
  const { sub, sid, jti, amr, aal, auth_time, iat, exp } = payload;
  if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string") return null;
  if (typeof iat !== "number" || typeof exp !== "number" || typeof auth_time !== "number") return null;
  if (aal !== 1 && aal !== 2) return null;
  if (!Array.isArray(amr) || !amr.every(isAuthMethod)) return null;
  return { sub, sid, jti, amr, aal, auth_time, iat, exp };
}

export function isAuthMethod(value: unknown): value is AuthMethod {
  return ["pwd", "email", "otp", "recovery", "device", "hwk", "user"].includes(value as string);
}
