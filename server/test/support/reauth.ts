import { decodeJwt } from "jose";
import { expect } from "vitest";
import { strongPassword } from "./accounts.js";
import type { TestApp } from "./app.js";
import { call, expectError, str, type Json, type Reply } from "./http.js";

/** Re-authentication (SPEC "Re-authentication"): the route, and what the suites check of its answers. */

/** POST /api/auth/reauth with the access token and `body` (the password by default). */
export function reauth(t: TestApp, token: string, body: Json = { password: strongPassword }): Promise<Reply> {
  return call(t.app, "POST", "/api/auth/reauth", { token, body });
}

/** A successful re-authentication: its new access and refresh tokens. */
export async function reauthenticated(
  t: TestApp,
  token: string,
  body?: Json,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await reauth(t, token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { accessToken: str(res.body["access_token"]), refreshToken: str(res.body["refresh_token"]) };
}

/** The token's `auth_time`, Unix seconds. */
export function authTimeOf(token: string): number {
  return Number(decodeJwt(token)["auth_time"]);
}

/** 401 `reauth_required`, with the RFC 9470 challenge naming REAUTH_MAX_AGE. */
export function expectReauthRequired(res: Reply, maxAgeSeconds: number): void {
  expectError(res, 401, "reauth_required");
  expect(String(res.headers["www-authenticate"])).toBe(
    'Bearer realm="tessera", error="insufficient_user_authentication", ' +
      `error_description="A more recent sign-in is required", max_age="${maxAgeSeconds}"`,
  );
}

/** Moves the clock just past REAUTH_MAX_AGE from now: every sign-in before this call is no longer recent. */
export function outlive(t: TestApp): void {
  t.clock.advance(t.config.reauthMaxAgeSeconds + 1);
}
