import { decodeJwt } from "jose";
import { expect } from "vitest";
import type { TestApp } from "./app.js";
import { enrolledUser, fullLogin, uniqueName } from "./accounts.js";
import { call, type Json } from "./http.js";

/** Administrators and the two-factor policy, as the admin suites need them. */

/** An administrator with two-factor on, signed in with a code just now: an aal-2, recently authenticated token. */
export async function adminSession(
  t: TestApp,
): Promise<{ token: string; userId: string; name: string; secret: string }> {
  const name = uniqueName("admin");
  const { secret, userId } = await enrolledUser(t.app, t.clock, name);
  await t.app.services.admin.grantRole(name, "admin");
  const { accessToken } = await fullLogin(t, name, secret);
  return { token: accessToken, userId, name, secret };
}

export async function setPolicy(t: TestApp, token: string, value: string): Promise<void> {
  const res = await call(t.app, "PUT", "/api/admin/policy", { token, body: { require_2fa: value } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** The claims Tessera adds for the policy and roles. */
export function policyClaimsOf(accessToken: string): { aal: unknown; roles: unknown; enrollment_required: unknown } {
  const claims = decodeJwt(accessToken) as Json;
  return { aal: claims["aal"], roles: claims["roles"], enrollment_required: claims["enrollment_required"] };
}
