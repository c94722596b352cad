import { api } from "./client";
import type { MFASetup, VerifySetupReply } from "./types";

/** Endpoints of the server's TOTP module: enrolment, disabling, recovery codes. */

export function startSetup(): Promise<MFASetup> {
  return api.post<MFASetup>("/api/auth/2fa/setup");
}

export function verifySetup(code: string): Promise<VerifySetupReply> {
  return api.post<VerifySetupReply>("/api/auth/2fa/verify-setup", { code });
}

/** `code` may be a TOTP code or a recovery code. */
export function disable(password: string, code: string): Promise<{ mfa_enabled: false }> {
  return api.post<{ mfa_enabled: false }>("/api/auth/2fa/disable", { password, code });
}

export function regenerateRecoveryCodes(password: string, code: string): Promise<{ recovery_codes: string[] }> {
  return api.post<{ recovery_codes: string[] }>("/api/auth/2fa/recovery-codes", { password, code });
}
