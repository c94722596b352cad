import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsOf,
  enrolledUser,
  login,
  loginToken,
  register,
  secondFactorLogin,
  setCookieNames,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { call, expectError, type Json, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/* Two-factor happy paths end to end, on a fixed clock: enrol, log in with a code or a recovery
 * code, clock drift, and no cookie before the second step (SPEC §2 "Two-factor"). Turning it off
 * and new recovery codes are in settings.test.ts. */

for (const dialect of testDialects()) {
  describe(`two-factor flows [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("signs up with enable_mfa, confirms the setup, and finishes every later login with a code", async () => {
      const name = uniqueName("alice");
      const signup = await register(t.app, name, { enable_mfa: true });
      const setup = signup.body["mfa_setup"] as Json;
      expect(setup).toBeDefined();
      const secret = str(setup["secret"]);
      expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits of base32, no padding
      expect(str(setup["otpauth_url"])).toContain(`secret=${secret}`);
      expect(str(setup["qr_png"])).toMatch(/^data:image\/png;base64,/);
      expect(setup["qr_base64"]).toBe(setup["qr_png"]);
      expect(str(setup["qr_svg"])).toContain("<svg");
      // two-factor is not on until a code confirms the secret.
      expect(signup.body["user"]).toMatchObject({ mfa_enabled: false });
      const preSid = claimsOf(signup.accessToken).sid;

      // A second, older session of the same user must die with the confirmation.
      const other = await login(t.app, name);
      expect(other.status).toBe(200);
      const otherAccess = str(other.body["access_token"]);
      const otherRefresh = str(other.body["refresh_token"]);

      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: signup.accessToken,
        body: { code: totpCode(secret, t.clock) },
      });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      expect(confirm.body["mfa_enabled"]).toBe(true);
      const codes = confirm.body["recovery_codes"] as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      const access = str(confirm.body["access_token"]);
      const claims = claimsOf(access);
      expect(claims.aal).toBe(2);
      expect(claims.amr).toEqual(["pwd", "otp"]);
      expect(claims.sid).not.toBe(preSid);

      // The pre-confirmation session and every other one are revoked, access and refresh alike.
      for (const token of [signup.accessToken, otherAccess]) {
        expect((await call(t.app, "GET", "/api/user/me", { token })).status).toBe(401);
      }
      for (const refresh of [signup.refreshToken, otherRefresh]) {
        expectError(
          await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refresh } }),
          401,
          "unauthorized",
        );
      }
      const me = await call(t.app, "GET", "/api/user/me", { token: access });
      expect(me.status).toBe(200);
      expect(me.body["mfa_enabled"]).toBe(true);

      expect((await call(t.app, "POST", "/api/auth/logout", { token: access })).status).toBe(204);
      expect((await call(t.app, "GET", "/api/user/me", { token: access })).status).toBe(401);

      t.clock.advance(30); // the confirming code is spent; wait for the next step
      const challenge = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: { username: name, password: strongPassword },
      });
      expect(challenge.status).toBe(200);
      expect(challenge.body).toEqual({
        mfa_required: true,
        "2fa_required": true,
        "2fa_enabled": true,
        login_token: expect.any(String),
        methods: ["totp", "recovery_code"],
        expires_in: 300,
      });
      expect(challenge.body).not.toHaveProperty("access_token");
      expect(challenge.body).not.toHaveProperty("refresh_token");
      expect(setCookieNames(challenge)).not.toContain("tessera_refresh");

      const done = await secondFactorLogin(t.app, {
        login_token: str(challenge.body["login_token"]),
        code: totpCode(secret, t.clock),
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      const loginClaims = claimsOf(str(done.body["access_token"]));
      expect(loginClaims.amr).toEqual(["pwd", "otp"]);
      expect(loginClaims.aal).toBe(2);
      const me2 = await call(t.app, "GET", "/api/user/me", { token: str(done.body["access_token"]) });
      expect(me2.status).toBe(200);
      expect(me2.body).toMatchObject({ username: name, mfa_enabled: true });
    });

    it("logs in with a recovery code, with amr pwd and recovery, and that code works only once", async () => {
      const name = uniqueName("rec");
      const { recoveryCodes } = await enrolledUser(t.app, t.clock, name);
      const code = recoveryCodes[3] ?? "";
      const res = await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: code });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const claims = claimsOf(str(res.body["access_token"]));
      expect(claims.amr).toEqual(["pwd", "recovery"]);
      expect(claims.aal).toBe(2);
      expect((await call(t.app, "GET", "/api/user/me", { token: str(res.body["access_token"]) })).status).toBe(200);

      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: code }),
        401,
        "invalid_otp",
      );
      // Another code of the same set still works.
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            recovery_code: recoveryCodes[4] ?? "",
          })
        ).status,
      ).toBe(200);
    });

    it("accepts a recovery code typed in lower case and without dashes", async () => {
      const name = uniqueName("rec-fmt");
      const { recoveryCodes } = await enrolledUser(t.app, t.clock, name);
      const typed = (recoveryCodes[0] ?? "").replaceAll("-", "").toLowerCase();
      expect(
        (await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: typed })).status,
      ).toBe(200);
    });

    it("accepts a code one step before or after for clock drift, and refuses codes two steps away", async () => {
      const name = uniqueName("drift");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      t.clock.advance(30); // the step before now must not be the one that confirmed the enrolment
      for (const offset of [-2, 2]) {
        expectError(
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock, offset),
          }),
          401,
          "invalid_otp",
        );
      }
      // Earlier step first: the replay guard refuses any step at or before the last one used.
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock, -1),
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock, 1),
          })
        ).status,
      ).toBe(200);
    });

    it("refuses one user's recovery code on another user's login", async () => {
      const alice = uniqueName("rc-alice");
      const bob = uniqueName("rc-bob");
      const { recoveryCodes } = await enrolledUser(t.app, t.clock, alice);
      await enrolledUser(t.app, t.clock, bob);
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, bob), recovery_code: recoveryCodes[0] }),
        401,
        "invalid_otp",
      );
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, alice),
            recovery_code: recoveryCodes[0],
          })
        ).status,
      ).toBe(200);
    });

    it("sets the refresh cookie only once the second factor is verified", async () => {
      const name = uniqueName("cookie");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const challenge = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: { username: name, password: strongPassword },
      });
      expect(challenge.raw.headers["set-cookie"]).toBeUndefined();
      const done = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: { login_token: challenge.body["login_token"], code: totpCode(secret, t.clock) },
      });
      expect(done.status).toBe(200);
      expect(setCookieNames(done)).toContain("tessera_refresh");
      // The refreshed pair keeps aal 2.
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: done.body["refresh_token"] },
      });
      expect(refreshed.status).toBe(200);
      expect(claimsOf(str(refreshed.body["access_token"]))).toMatchObject({ aal: 2, amr: ["pwd", "otp"] });
    });
  });
}
