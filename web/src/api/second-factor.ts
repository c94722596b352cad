import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { api } from "./client";
import type { SecondFactorSetup, VerifySetupReply } from "./types";

/** Endpoints of the server's TOTP module: enrolment, disabling, recovery codes. */

export function startSecondFactorSetup(): Promise<SecondFactorSetup> {
  return api.post<SecondFactorSetup>("/api/auth/2fa/setup");
}

export function verifySecondFactorSetup(code: string): Promise<VerifySetupReply> {
  return api.post<VerifySetupReply>("/api/auth/2fa/verify-setup", { code });
}

/**
 * What proves a sensitive change besides the password: a TOTP or recovery code, or a passkey assertion answering
 * POST /api/auth/passkeys/reauth/options (reauthPasskeyOptions).
 */
export type SecondFactorProof = string | AuthenticationResponseJSON;

/** The body fields of that proof; none for a missing or empty code. */
export function secondFactorFields(factor: SecondFactorProof | undefined): {
  code?: string;
  webauthn?: AuthenticationResponseJSON;
} {
  if (factor === undefined || factor === "") return {};
  return typeof factor === "string" ? { code: factor } : { webauthn: factor };
}

export function disableSecondFactor(password: string, factor: SecondFactorProof): Promise<{ mfa_enabled: false }> {
  return api.post<{ mfa_enabled: false }>("/api/auth/2fa/disable", { password, ...secondFactorFields(factor) });
}

export function regenerateRecoveryCodes(
  password: string,
  factor: SecondFactorProof,
): Promise<{ recovery_codes: string[] }> {
  return api.post<{ recovery_codes: string[] }>("/api/auth/2fa/recovery-codes", {
    password,
    ...secondFactorFields(factor),
  });
}

export interface SecondFactorStatus {
  mfa_enabled: boolean;
  recovery_codes_remaining: number;
}

/** Whether two-factor is on and how many unused recovery codes are left. */
export function getSecondFactorStatus(): Promise<SecondFactorStatus> {
  return api.get<SecondFactorStatus>("/api/auth/2fa/status");
}
