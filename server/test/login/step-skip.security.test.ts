import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsOf,
  enrolledUser,
  loginToken,
  register,
  secondFactorLogin,
  setCookieNames,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { call, expectError, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: skipping the second step. After the password step an attacker holds a login_token and
 * tries to use it as a session (Bearer on an API route, or as a refresh token), or holds a session
 * that never passed the second factor (aal 1) for an account with two-factor on and calls routes that need
 * aal 2. Pins SPEC §3 "Step 2 cannot be skipped: no token with aal: 2 without a second factor; a
 * login_token is useless anywhere but /2fa/login" and STYLE S13 (no session before the second factor).
 */

const meta = { ip: "203.0.113.7", userAgent: "step-skip test" };

for (const dialect of testDialects()) {
  describe(`the second step cannot be skipped [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("issues no token, session row or refresh cookie at the password step of a two-factor account", async () => {
      const name = uniqueName("pwd-only");
      const { userId } = await enrolledUser(t.app, t.clock, name);
      const before = await t.db.selectFrom("session").select("id").where("user_id", "=", userId).execute();
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: { username: name, password: strongPassword },
      });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual([
        "2fa_enabled",
        "2fa_required",
        "expires_in",
        "login_token",
        "methods",
        "mfa_required",
      ]);
      expect(setCookieNames(res)).toEqual([]);
      const after = await t.db.selectFrom("session").select("id").where("user_id", "=", userId).execute();
      expect(after).toHaveLength(before.length);
    });

    it("refuses a login_token used as a Bearer token on /api/user/me", async () => {
      const name = uniqueName("bearer");
      await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      expectError(await call(t.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
      expectError(await call(t.app, "GET", "/api/auth/sessions", { token }), 401, "unauthorized");
      expectError(await call(t.app, "POST", "/api/auth/2fa/setup", { token }), 401, "unauthorized");
    });

    it("refuses a login_token at /token/refresh: as Bearer, in the body or as the refresh cookie", async () => {
      const name = uniqueName("refresh");
      await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      expectError(
        await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: token } }),
        401,
        "unauthorized",
      );
      expectError(await call(t.app, "POST", "/api/auth/token/refresh", { token }), 401, "unauthorized");
      // An unsigned CSRF value is refused before the cookie is read; with a genuine one (from a browser session
      // of another account) the login_token itself is refused as a refresh token.
      const viaCookie = (csrf: string): ReturnType<typeof send> =>
        send(t.app, {
          method: "POST",
          url: "/api/auth/token/refresh",
          cookies: { tessera_refresh: token, tessera_csrf: csrf },
          headers: { "x-csrf-token": csrf },
        });
      expectError(await viaCookie("x"), 403, "forbidden");
      const browser = uniqueName("browser");
      await register(t.app, browser);
      const session = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: browser, password: strongPassword },
      });
      const csrf = session.raw.cookies.find((cookie) => cookie.name === "tessera_csrf")?.value ?? "";
      expectError(await viaCookie(decodeURIComponent(csrf)), 401, "unauthorized");
    });

    it("keeps the login_token usable only at /2fa/login after those refusals", async () => {
      const name = uniqueName("still-valid");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      await call(t.app, "GET", "/api/user/me", { token });
      await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: token } });
      const res = await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) });
      expect(res.status).toBe(200);
      expect(claimsOf(str(res.body["access_token"])).aal).toBe(2);
    });

    it("answers mfa_required to an aal-1 session of a two-factor account on routes that need aal 2", async () => {
      const name = uniqueName("aal1");
      const { userId, secret } = await enrolledUser(t.app, t.clock, name);
      const aal1 = await t.app.services.sessions.createSession(userId, ["pwd"], meta);
      expect(claimsOf(aal1.access_token)).toMatchObject({ aal: 1, amr: ["pwd"] });
      const token = aal1.access_token;
      expectError(await call(t.app, "GET", "/api/user/me", { token }), 401, "mfa_required");
      expectError(await call(t.app, "GET", "/api/user/audit", { token }), 401, "mfa_required");
      expectError(await call(t.app, "GET", "/api/auth/sessions", { token }), 401, "mfa_required");
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", {
          token,
          body: { password: strongPassword, code: totpCode(secret, t.clock) },
        }),
        401,
        "mfa_required",
      );
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
          token,
          body: { password: strongPassword, code: totpCode(secret, t.clock) },
        }),
        401,
        "mfa_required",
      );
      expectError(
        await call(t.app, "POST", "/api/user/password", {
          token,
          body: {
            current_password: strongPassword,
            new_password: "another long passphrase here",
            code: totpCode(secret, t.clock),
          },
        }),
        401,
        "mfa_required",
      );
      expectError(
        await call(t.app, "DELETE", "/api/user", {
          token,
          body: { password: strongPassword, code: totpCode(secret, t.clock) },
        }),
        401,
        "mfa_required",
      );
      // Nothing changed: two-factor is still on and the password still works with a code.
      const login = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: totpCode(secret, t.clock),
      });
      expect(login.status).toBe(200);
    });

    it("keeps an aal-1 session at aal 1 when it is refreshed", async () => {
      const name = uniqueName("aal1-refresh");
      const { userId } = await enrolledUser(t.app, t.clock, name);
      const aal1 = await t.app.services.sessions.createSession(userId, ["pwd"], meta);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: aal1.refresh_token },
      });
      expect(refreshed.status).toBe(200);
      expect(claimsOf(str(refreshed.body["access_token"]))).toMatchObject({ aal: 1, amr: ["pwd"] });
      expectError(
        await call(t.app, "GET", "/api/user/me", { token: str(refreshed.body["access_token"]) }),
        401,
        "mfa_required",
      );
    });

    it("finishes no login for an account locked after its password step, and uses up none of its codes", async () => {
      const name = uniqueName("locked-mid");
      const { userId, secret, recoveryCodes } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      await t.db.updateTable("user").set({ locked: 1 }).where("id", "=", userId).execute();
      const [recoveryCode] = recoveryCodes;
      expectError(
        await secondFactorLogin(t.app, { login_token: token, recovery_code: str(recoveryCode) }),
        401,
        "login_token_expired",
      );
      t.clock.advance(30);
      expectError(
        await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) }),
        401,
        "login_token_expired",
      );
      const row = await t.db
        .selectFrom("user")
        .select(["mfa_failed_count", "mfa_consecutive_failures"])
        .where("id", "=", userId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ mfa_failed_count: 0, mfa_consecutive_failures: 0 });
      expect(
        await t.db
          .selectFrom("recovery_code")
          .select("id")
          .where("user_id", "=", userId)
          .where("used_at", "is not", null)
          .execute(),
      ).toEqual([]);
      expect(
        await t.db
          .selectFrom("session")
          .select("id")
          .where("user_id", "=", userId)
          .where("aal", "=", 2)
          .where("created_at", ">", t.clock.now() - 60_000)
          .execute(),
      ).toEqual([]);
      // Unlocked, the same recovery code still finishes a login.
      await t.db.updateTable("user").set({ locked: 0 }).where("id", "=", userId).execute();
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            recovery_code: str(recoveryCode),
          })
        ).status,
      ).toBe(200);
    });

    it("never finishes a login without a code: missing, empty code or empty recovery code", async () => {
      const name = uniqueName("no-code");
      await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      expectError(await secondFactorLogin(t.app, { login_token: token }), 422, "validation_failed");
      // An empty code counts as absent (SPEC §2): refused as invalid input, not verified.
      expectError(await secondFactorLogin(t.app, { login_token: token, code: "" }), 422, "validation_failed");
      expectError(await secondFactorLogin(t.app, { login_token: token, recovery_code: "" }), 422, "validation_failed");
    });
  });
}
