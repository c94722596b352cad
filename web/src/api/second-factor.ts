import { api } from "./client";
import type { SecondFactorSetup, VerifySetupReply } from "./types";

/** Endpoints of the server's TOTP module: enrolment, disabling, recovery codes. */

export function startSecondFactorSetup(): Promise<SecondFactorSetup> {
  return api.post<SecondFactorSetup>("/api/auth/2fa/setup");
}

export function verifySecondFactorSetup(code: string): Promise<VerifySetupReply> {
  return api.post<VerifySetupReply>("/api/auth/2fa/verify-setup", { code });
}

/** `code` may be a TOTP code or a recovery code. */
export function disableSecondFactor(password: string, code: string): Promise<{ mfa_enabled: false }> {
  return api.post<{ mfa_enabled: false }>("/api/auth/2fa/disable", { password, code });
}

export function regenerateRecoveryCodes(password: string, code: string): Promise<{ recovery_codes: string[] }> {
  return api.post<{ recovery_codes: string[] }>("/api/auth/2fa/recovery-codes", { password, code });
}

export interface SecondFactorStatus {
  mfa_enabled: boolean;
  recovery_codes_remaining: number;
}

/** Whether two-factor is on and how many unused recovery codes are left. */
export function getSecondFactorStatus(): Promise<SecondFactorStatus> {
  return api.get<SecondFactorStatus>("/api/auth/2fa/status");
}
