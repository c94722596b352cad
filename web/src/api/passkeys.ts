import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/browser";
import { api } from "./client";
import type { LoginTokens, TokenPair } from "./types";

/** Endpoints of the server's passkeys (SPEC "Passkeys"). */

export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  device_type: string;
  backed_up: boolean;
  transports: string[];
  aaguid: string;
}

/** A stored passkey; when it turned two-factor on, also the recovery codes and new tokens. */
export interface RegisterPasskeyReply extends Partial<TokenPair> {
  passkey: Passkey;
  mfa_enabled: true;
  recovery_codes?: string[];
}

export function passkeyRegistrationOptions(): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return api.post<PublicKeyCredentialCreationOptionsJSON>("/api/auth/passkeys/register/options");
}

export function registerPasskey(response: RegistrationResponseJSON, name?: string): Promise<RegisterPasskeyReply> {
  const body = name === undefined || name.trim() === "" ? { response } : { response, name: name.trim() };
  return api.post<RegisterPasskeyReply>("/api/auth/passkeys/register/verify", body);
}

export async function listPasskeys(): Promise<Passkey[]> {
  return (await api.get<{ passkeys: Passkey[] }>("/api/auth/passkeys")).passkeys;
}

export function renamePasskey(id: string, name: string): Promise<Passkey> {
  return api.patch<Passkey>(`/api/auth/passkeys/${encodeURIComponent(id)}`, { name: name.trim() });
}

/** Whether two-factor is still on afterwards (removing the last two-factor method turns it off). */
export function removePasskey(id: string): Promise<{ mfa_enabled: boolean }> {
  return api.delete<{ mfa_enabled: boolean }>(`/api/auth/passkeys/${encodeURIComponent(id)}`);
}

/** Request options for the second step of the login that `loginToken` began. */
export function secondFactorPasskeyOptions(loginToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return api.post<PublicKeyCredentialRequestOptionsJSON>(
    "/api/auth/2fa/webauthn/options",
    { login_token: loginToken },
    { auth: false },
  );
}

export function passwordlessOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return api.post<PublicKeyCredentialRequestOptionsJSON>("/api/auth/passkeys/login/options", {}, { auth: false });
}

export function passwordlessLogin(response: AuthenticationResponseJSON): Promise<LoginTokens> {
  return api.post<LoginTokens>("/api/auth/passkeys/login/verify", { response }, { auth: false });
}

/** Options to re-authenticate with a passkey; the assertion goes to /api/auth/reauth with the password. */
export function reauthPasskeyOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return api.post<PublicKeyCredentialRequestOptionsJSON>("/api/auth/passkeys/reauth/options");
}
