import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { api } from "./client";
import type { LoginReply, LoginTokens, RegisterReply, TokenPair } from "./types";

/** Endpoints of the server's auth module: accounts, password login, the two-factor login step, tokens. */

export interface RegisterInput {
  username: string;
  password: string;
  email?: string;
  enable_mfa?: boolean;
}

export function register(input: RegisterInput): Promise<RegisterReply> {
  return api.post<RegisterReply>("/api/auth/register", input, { auth: false });
}

/** `username` may also be the account's email address. */
export function login(username: string, password: string): Promise<LoginReply> {
  return api.post<LoginReply>("/api/auth/login", { username, password }, { auth: false });
}

export type SecondFactor = { code: string } | { recovery_code: string } | { webauthn: AuthenticationResponseJSON };

export function loginSecondFactor(
  loginToken: string,
  factor: SecondFactor,
  rememberDevice = false,
): Promise<LoginTokens> {
  const body = { login_token: loginToken, ...factor, ...(rememberDevice ? { remember_device: true } : {}) };
  return api.post<LoginTokens>("/api/auth/2fa/login", body, { auth: false });
}

/** With no argument the server reads the refresh token from its httpOnly cookie (CSRF header required). */
export function refreshTokens(refreshToken?: string): Promise<TokenPair> {
  const body = refreshToken === undefined ? {} : { refresh_token: refreshToken };
  return api.post<TokenPair>("/api/auth/token/refresh", body, { auth: false });
}

/**
 * Proves it is still the signed-in person (the answer to `reauth_required`): the password, and with two-factor on a
 * current code or recovery code. New tokens for the same session; the server sets the refreshed cookies.
 */
export function reauthenticate(
  password: string,
  code?: string,
  webauthn?: AuthenticationResponseJSON,
): Promise<TokenPair> {
  const body =
    webauthn !== undefined
      ? { password, webauthn }
      : code === undefined || code === ""
        ? { password }
        : { password, code };
  return api.post<TokenPair>("/api/auth/reauth", body);
}

export async function logout(): Promise<void> {
  await api.post<null>("/api/auth/logout");
}
