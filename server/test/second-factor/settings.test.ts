import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsOf,
  enrolledUser,
  fullLogin,
  login,
  loginToken,
  register,
  secondFactorLogin,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { secondFactorRows } from "../support/database.js";
import { call, expectError, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/* Two-factor settings end to end: turning it off with a code or a recovery code, new recovery
 * codes, the seed API's aliases for `code`, and 409 when two-factor is off (SPEC §2 "Two-factor"). */

for (const dialect of testDialects()) {
  describe(`two-factor settings [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("turns two-factor off with password and code: rows gone, others signed out, login gives tokens", async () => {
      const name = uniqueName("off");
      const { userId, secret } = await enrolledUser(t.app, t.clock, name);
      const current = await fullLogin(t, name, secret);
      t.clock.advance(30);
      const other = await fullLogin(t, name, secret);
      t.clock.advance(30);

      const res = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token: current.accessToken,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ mfa_enabled: false });
      expect(await secondFactorRows(t, userId)).toMatchObject({ credentials: 0, recoveryCodes: 0 });
      expect((await call(t.app, "GET", "/api/user/me", { token: other.accessToken })).status).toBe(401);
      expectError(
        await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: other.refreshToken } }),
        401,
        "unauthorized",
      );
      const me = await call(t.app, "GET", "/api/user/me", { token: current.accessToken });
      expect(me.status).toBe(200);
      expect(me.body["mfa_enabled"]).toBe(false);

      const again = await login(t.app, name);
      expect(again.status).toBe(200);
      expect(again.body).toHaveProperty("access_token");
      expect(again.body).not.toHaveProperty("mfa_required");
      expect(claimsOf(str(again.body["access_token"])).amr).toEqual(["pwd"]);
    });

    it("turns two-factor off with password and a recovery code, in the code or the recovery_code field", async () => {
      for (const field of ["code", "recovery_code"] as const) {
        const name = uniqueName(`off-rc-${field.replace("_", "")}`);
        const { userId, recoveryCodes, accessToken } = await enrolledUser(t.app, t.clock, name);
        const res = await call(t.app, "POST", "/api/auth/2fa/disable", {
          token: accessToken,
          body: { password: strongPassword, [field]: recoveryCodes[0] },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(await secondFactorRows(t, userId)).toMatchObject({ credentials: 0, recoveryCodes: 0 });
        expect((await login(t.app, name)).body).toHaveProperty("access_token");
      }
    });

    it("refuses to disable two-factor with a wrong password or without a code", async () => {
      const name = uniqueName("off-bad");
      const { secret, accessToken, userId } = await enrolledUser(t.app, t.clock, name);
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", {
          token: accessToken,
          body: { password: "not the password", code: totpCode(secret, t.clock) },
        }),
        401,
        "invalid_credentials",
      );
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", { token: accessToken, body: { password: strongPassword } }),
        422,
        "validation_failed",
      );
      expect(await secondFactorRows(t, userId)).toMatchObject({ credentials: 1, recoveryCodes: 10 });
    });

    it("regenerates recovery codes: the old set dies and the new set works", async () => {
      const name = uniqueName("regen");
      const { secret, recoveryCodes: old, accessToken } = await enrolledUser(t.app, t.clock, name);
      const res = await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
        token: accessToken,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const fresh = res.body["recovery_codes"] as string[];
      expect(fresh).toHaveLength(10);
      expect(fresh.some((c) => old.includes(c))).toBe(false);
      for (const dead of [old[0], old[9]]) {
        expectError(
          await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: dead }),
          401,
          "invalid_otp",
        );
      }
      expect(
        (await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: fresh[0] }))
          .status,
      ).toBe(200);
    });

    it("accepts otp and token as aliases of code on /2fa/login, /2fa/verify-setup and /2fa/disable", async () => {
      const name = uniqueName("alias");
      const { accessToken } = await register(t.app, name);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      const secret = str(setup.body["secret"]);
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: accessToken,
        body: { otp: totpCode(secret, t.clock) },
      });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      for (const alias of ["otp", "token"]) {
        t.clock.advance(30);
        const res = await secondFactorLogin(t.app, {
          login_token: await loginToken(t.app, name),
          [alias]: totpCode(secret, t.clock),
        });
        expect(res.status, `${alias}: ${JSON.stringify(res.body)}`).toBe(200);
        expect(claimsOf(str(res.body["access_token"])).amr).toEqual(["pwd", "otp"]);
      }
      t.clock.advance(30);
      const off = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token: str(confirm.body["access_token"]),
        body: { password: strongPassword, token: totpCode(secret, t.clock) },
      });
      expect(off.status, JSON.stringify(off.body)).toBe(200);
    });

    it("answers disable and recovery-codes with 409 mfa_not_enabled when two-factor is off", async () => {
      const { accessToken } = await register(t.app, uniqueName("never"));
      for (const route of ["/api/auth/2fa/disable", "/api/auth/2fa/recovery-codes"]) {
        expectError(
          await call(t.app, "POST", route, { token: accessToken, body: { password: strongPassword, code: "123456" } }),
          409,
          "mfa_not_enabled",
        );
      }
    });
  });
}
