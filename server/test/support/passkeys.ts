import { expect } from "vitest";
import type { TestApp } from "./app.js";
import { register } from "./accounts.js";
import { SoftAuthenticator } from "./authenticator.js";
import { call, str, type Json, type Reply } from "./http.js";

/** Passkey ceremonies through the routes (SPEC "Passkeys"), driven by the software authenticator. */

export type Options = Json & { challenge: string };

export async function registrationOptions(t: TestApp, token: string): Promise<Options> {
  const res = await call(t.app, "POST", "/api/auth/passkeys/register/options", { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Options;
}

/** Registers a new passkey of `authenticator` on the signed-in account: the reply of register/verify. */
export async function addPasskey(
  t: TestApp,
  token: string,
  authenticator: SoftAuthenticator,
  name?: string,
): Promise<Reply> {
  const options = await registrationOptions(t, token);
  const response = authenticator.create(options as never);
  return call(t.app, "POST", "/api/auth/passkeys/register/verify", {
    token,
    body: { response: response as Json, ...(name === undefined ? {} : { name }) },
  });
}

/** A new account whose first second factor is a passkey (so two-factor is on), and its authenticator. */
export async function passkeyUser(
  t: TestApp,
  username: string,
): Promise<{
  userId: string;
  authenticator: SoftAuthenticator;
  accessToken: string;
  refreshToken: string;
  passkeyId: string;
  recoveryCodes: string[];
}> {
  const { userId, accessToken } = await register(t.app, username);
  const authenticator = new SoftAuthenticator();
  const res = await addPasskey(t, accessToken, authenticator, "Laptop");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    userId,
    authenticator,
    accessToken: str(res.body["access_token"]),
    refreshToken: str(res.body["refresh_token"]),
    passkeyId: str((res.body["passkey"] as Json)["id"]),
    recoveryCodes: res.body["recovery_codes"] as string[],
  };
}

/** Request options for the second step of the login `loginToken` began. */
export async function secondFactorOptions(t: TestApp, loginToken: string): Promise<Options> {
  const res = await call(t.app, "POST", "/api/auth/2fa/webauthn/options", { body: { login_token: loginToken } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Options;
}

export async function passwordlessOptions(t: TestApp): Promise<Options> {
  const res = await call(t.app, "POST", "/api/auth/passkeys/login/options");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Options;
}

export function passwordlessLogin(t: TestApp, response: Json): Promise<Reply> {
  return call(t.app, "POST", "/api/auth/passkeys/login/verify", { body: { response } });
}

export function passkeyStep(t: TestApp, loginToken: string, response: Json): Promise<Reply> {
  return call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: loginToken, webauthn: response } });
}

/** A notifier that records every notice, for `appOn(dialect, { notifier })`. */
export function noticeRecorder(): {
  notices: { kind: string; username: string }[];
  notifier: { notify(user: { username: string }, kind: string): Promise<void> };
} {
  const notices: { kind: string; username: string }[] = [];
  const notify = async (user: { username: string }, kind: string): Promise<void> => {
    notices.push({ kind, username: user.username });
  };
  return { notices, notifier: { notify } };
}
