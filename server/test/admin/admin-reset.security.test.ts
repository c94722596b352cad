import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deviceCookieOf,
  enrolledUser,
  fullLogin,
  login,
  passwordLogin,
  register,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { secondFactorRows } from "../support/database.js";
import { call, expectError, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: turning someone else's two-factor off. The administrator reset removes a user's second factor
 * without a code, so it is the shortest path around two-factor: an attacker tries it as an ordinary user,
 * as an admin whose own account has no second factor, or with an admin session that never passed
 * one. Pins SPEC §2 "Admin (role admin, which must itself have 2FA): POST /api/admin/users/:id/reset-2fa",
 * and that the reset really removes the factor (secret, recovery codes, trusted devices, sessions).
 */

const meta = { ip: "192.0.2.10", userAgent: "admin reset test" };

for (const dialect of testDialects()) {
  describe(`administrator two-factor reset [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    /** An admin with two-factor on, signed in with a code: an aal-2 access token. */
    async function adminToken(): Promise<{ token: string; userId: string; secret: string; name: string }> {
      const name = uniqueName("admin");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      await t.app.services.admin.grantRole(name, "admin");
      const { accessToken } = await fullLogin(t, name, secret);
      t.clock.advance(30);
      return { token: accessToken, userId, secret, name };
    }

    /** A target with two-factor on, two live sessions and a trusted device. */
    async function target(): Promise<{
      userId: string;
      name: string;
      tokens: string[];
      refresh: string;
      deviceCookie: string;
    }> {
      const name = uniqueName("target");
      const { secret, userId, accessToken } = await enrolledUser(t.app, t.clock, name);
      const reply = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: {
          login_token: str((await login(t.app, name)).body["login_token"]),
          code: totpCode(secret, t.clock),
          remember_device: true,
        },
      });
      expect(reply.status).toBe(200);
      t.clock.advance(30);
      return {
        userId,
        name,
        tokens: [accessToken, str(reply.body["access_token"])],
        refresh: str(reply.body["refresh_token"]),
        deviceCookie: deviceCookieOf(reply) ?? "",
      };
    }

    async function expectResetDone(victim: Awaited<ReturnType<typeof target>>): Promise<void> {
      expect(await secondFactorRows(t, victim.userId)).toEqual({ credentials: 0, recoveryCodes: 0, activeDevices: 0 });
      for (const token of victim.tokens)
        expectError(await call(t.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
      expectError(
        await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: victim.refresh } }),
        401,
        "unauthorized",
      );
      const again = await login(t.app, victim.name);
      expect(again.body).toHaveProperty("access_token");
      const me = await call(t.app, "GET", "/api/user/me", { token: str(again.body["access_token"]) });
      expect(me.body["mfa_enabled"]).toBe(false);
    }

    it("turns two-factor off by enrollment.resetByAdmin: rows gone, sessions and trusted devices revoked", async () => {
      const victim = await target();
      await t.app.services.enrollment.resetByAdmin(victim.userId, meta);
      await expectResetDone(victim);
      const events = await t.app.services.audit.list({ userId: victim.userId });
      expect(events.find((e) => e.type === "mfa_reset_by_admin")).toMatchObject({
        ip: meta.ip,
        user_agent: meta.userAgent,
      });
    });

    it("lets an admin with an aal-2 session reset a user's two-factor through the API", async () => {
      const { token } = await adminToken();
      const victim = await target();
      const res = await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token });
      expect(res.status, JSON.stringify(res.body)).toBe(204);
      await expectResetDone(victim);
      // The user can enrol again from scratch.
      const fresh = await login(t.app, victim.name);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: str(fresh.body["access_token"]) });
      expect(setup.status).toBe(200);
    });

    it("answers 404 for an unknown user id", async () => {
      const { token } = await adminToken();
      expectError(await call(t.app, "POST", "/api/admin/users/no-such-user/reset-2fa", { token }), 404, "not_found");
    });

    it("refuses an ordinary user with two-factor and an aal-2 session with 403 forbidden", async () => {
      const name = uniqueName("plain");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { accessToken } = await fullLogin(t, name, secret);
      const victim = await target();
      expectError(
        await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token: accessToken }),
        403,
        "forbidden",
      );
      expect((await secondFactorRows(t, victim.userId)).credentials).toBe(1);
    });

    it("refuses an admin without two-factor with 403 enrollment_required (admins always enrol)", async () => {
      const name = uniqueName("admin-no2fa");
      const { accessToken } = await register(t.app, name);
      await t.app.services.admin.grantRole(name, "admin");
      const victim = await target();
      expectError(
        await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token: accessToken }),
        403,
        "enrollment_required",
      );
      expectError(await call(t.app, "GET", "/api/admin/users", { token: accessToken }), 403, "enrollment_required");
      expect((await secondFactorRows(t, victim.userId)).credentials).toBe(1);
    });

    it("refuses an admin with two-factor on but an aal-1 session with 401 mfa_required", async () => {
      const { userId } = await adminToken();
      const aal1 = await t.app.services.sessions.createSession(userId, ["pwd"], meta);
      const victim = await target();
      expectError(
        await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token: aal1.access_token }),
        401,
        "mfa_required",
      );
      expect((await secondFactorRows(t, victim.userId)).credentials).toBe(1);
    });

    it("refuses a request without a token, and an admin's login_token used as a Bearer token", async () => {
      const admin = await adminToken();
      const victim = await target();
      expectError(await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`), 401, "unauthorized");
      const loginToken = str((await login(t.app, admin.name)).body["login_token"]);
      expectError(
        await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token: loginToken }),
        401,
        "unauthorized",
      );
      expect((await secondFactorRows(t, victim.userId)).credentials).toBe(1);
    });

    it("stops treating an admin as one for admin routes once the admin turns their own two-factor off", async () => {
      const admin = await adminToken();
      const off = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token: admin.token,
        body: { password: strongPassword, code: totpCode(admin.secret, t.clock) },
      });
      expect(off.status).toBe(200);
      const victim = await target();
      expectError(
        await call(t.app, "POST", `/api/admin/users/${victim.userId}/reset-2fa`, { token: admin.token }),
        403,
        "enrollment_required",
      );
      expect((await secondFactorRows(t, victim.userId)).credentials).toBe(1);
      // A trusted-device cookie of the victim was not touched either.
      expect((await passwordLogin(t.app, victim.name, { tessera_device: victim.deviceCookie })).body).toHaveProperty(
        "access_token",
      );
    });
  });
}
