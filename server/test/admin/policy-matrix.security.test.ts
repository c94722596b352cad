import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, login, register, totpCode, uniqueName } from "../support/accounts.js";
import { adminSession, policyClaimsOf, setPolicy } from "../support/admin.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, str } from "../support/http.js";

/*
 * Attack: living without a second factor where the organisation requires one. Under each two-factor policy
 * (off, all, admins, role:ops) a user without a second factor, one with it, one holding the covered role and an
 * administrator without it sign in with their password. Pins SPEC §2 "Admin and policy": a covered user without
 * a second factor gets aal-1 tokens marked `enrollment_required` that reach enrolment only (403 elsewhere);
 * administrators always need two-factor; a user with it is asked for a code whatever the policy.
 */

type Kind = "plain" | "with2fa" | "ops" | "admin";
const held: Record<string, Kind[]> = {
  off: ["admin"],
  all: ["plain", "ops", "admin"],
  admins: ["admin"],
  "role:ops": ["ops", "admin"],
};

for (const dialect of testDialects()) {
  describe(`two-factor policy matrix [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    async function userOf(kind: Kind): Promise<string> {
      const name = uniqueName(kind);
      if (kind === "with2fa") await enrolledUser(t.app, t.clock, name);
      else await register(t.app, name);
      if (kind === "ops") await t.app.services.admin.grantRole(name, "ops");
      if (kind === "admin") await t.app.services.admin.grantRole(name, "admin");
      return name;
    }

    for (const [policy, covered] of Object.entries(held)) {
      it(`under "${policy}" holds exactly ${covered.join(", ")} in enrolment after the password`, async () => {
        const admin = await adminSession(t);
        await setPolicy(t, admin.token, policy);
        for (const kind of ["plain", "with2fa", "ops", "admin"] as const) {
          const name = await userOf(kind);
          const res = await login(t.app, name);
          expect(res.status).toBe(200);
          if (kind === "with2fa") {
            expect(res.body["mfa_required"], `${kind} under ${policy}`).toBe(true);
            continue;
          }
          const token = str(res.body["access_token"]);
          const claims = policyClaimsOf(token);
          expect(claims.aal).toBe(1);
          const audit = await call(t.app, "GET", "/api/user/audit", { token });
          const me = await call(t.app, "GET", "/api/user/me", { token });
          expect(me.status).toBe(200);
          expect(me.body["roles"]).toEqual(kind === "ops" ? ["ops"] : kind === "admin" ? ["admin"] : []);
          expect(claims.roles).toEqual(me.body["roles"]);
          if (covered.includes(kind)) {
            expect(claims.enrollment_required, `${kind} under ${policy}`).toBe(true);
            expect(res.body["enrollment_required"]).toBe(true);
            expectError(audit, 403, "enrollment_required");
          } else {
            expect(claims.enrollment_required, `${kind} under ${policy}`).toBeUndefined();
            expect(res.body).not.toHaveProperty("enrollment_required");
            expect(audit.status).toBe(200);
          }
        }
      });
    }

    it("lets a user held in enrolment set up TOTP, then reach everything with the aal-2 tokens", async () => {
      const admin = await adminSession(t);
      await setPolicy(t, admin.token, "all");
      const name = await userOf("plain");
      const token = str((await login(t.app, name)).body["access_token"]);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
      expect(setup.status).toBe(200);
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token,
        body: { code: totpCode(str(setup.body["secret"]), t.clock) },
      });
      expect(confirm.status).toBe(200);
      const fresh = str(confirm.body["access_token"]);
      expect(policyClaimsOf(fresh)).toMatchObject({ aal: 2, enrollment_required: undefined });
      expect(confirm.body).not.toHaveProperty("enrollment_required");
      expect((await call(t.app, "GET", "/api/user/audit", { token: fresh })).status).toBe(200);
      // The enrolment token itself died with the session verify-setup replaced.
      expectError(await call(t.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
      await setPolicy(t, admin.token, "off");
    });

    it("keeps a refreshed enrolment session in enrolment: the new pair is marked and refused too", async () => {
      const admin = await adminSession(t);
      await setPolicy(t, admin.token, "all");
      const name = await userOf("plain");
      const first = await login(t.app, name);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: str(first.body["refresh_token"]) },
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body["enrollment_required"]).toBe(true);
      const token = str(refreshed.body["access_token"]);
      expect(policyClaimsOf(token)).toMatchObject({ aal: 1, enrollment_required: true });
      expectError(await call(t.app, "GET", "/api/auth/sessions", { token }), 403, "enrollment_required");
      await setPolicy(t, admin.token, "off");
    });

    it("refuses a policy that is not one with 422, and keeps the old policy", async () => {
      const admin = await adminSession(t);
      await setPolicy(t, admin.token, "admins");
      for (const bad of [
        "ALL",
        "role:",
        "role:Ops",
        "role:ops,,x",
        "role:1ops",
        "everyone",
        "",
        `role:${"a".repeat(33)}`,
      ]) {
        const res = await call(t.app, "PUT", "/api/admin/policy", { token: admin.token, body: { require_2fa: bad } });
        expectError(res, 422, "validation_failed");
      }
      const now = await call(t.app, "GET", "/api/admin/policy", { token: admin.token });
      expect(now.body["require_2fa"]).toBe("admins");
      await setPolicy(t, admin.token, "off");
    });
  });
}
