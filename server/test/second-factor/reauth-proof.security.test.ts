/*
 * Attack: POST /api/auth/reauth itself, by someone holding a stolen access token. They try it as a
 * password oracle (every wrong password counts against the account's allowance of password re-checks,
 * shared with the other re-check routes: 20 in 15 minutes), as a code oracle (a wrong or replayed code
 * counts towards the second-factor lockout, which then locks), as a way up (an aal-1 session stays
 * aal 1 whatever it proves), and on a session the owner already ended (revoked: refused, also when the
 * revocation lands between the guard and the renewal). A refresh token from before a re-authentication
 * is dead, and presenting it ends the session as any reused refresh token does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import {
  claimsOf,
  enrolledUser,
  fullLogin,
  register,
  strongPassword,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { lockState } from "../support/database.js";
import { call, expectError, send } from "../support/http.js";
import { authTimeOf, outlive, reauth, reauthenticated } from "../support/reauth.js";
import { testDialects } from "../support/dialects.js";

const meta = { ip: "192.0.2.44", userAgent: "reauth proof test" };

for (const dialect of testDialects()) {
  describe(`re-authentication refuses what is not a proof [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { RATE_LIMIT: "on" } });
    });
    afterAll(async () => t.close());

    it("refuses a wrong password, renews nothing and counts it: the 21st try is 429 even when right", async () => {
      const { accessToken } = await register(t.app, uniqueName("oracle"));
      outlive(t);
      for (let i = 1; i <= 20; i++) {
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/reauth",
          token: accessToken,
          body: { password: `guess number ${i}` },
          remoteAddress: `198.18.0.${i}`,
        });
        expectError(res, 401, "invalid_credentials");
        expect(res.headers["set-cookie"]).toBeUndefined();
      }
      const blocked = await send(t.app, {
        method: "POST",
        url: "/api/auth/reauth",
        token: accessToken,
        body: { password: strongPassword },
        remoteAddress: "198.18.1.1",
      });
      expectError(blocked, 429, "rate_limited");
      expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
      const events = (await call(t.app, "GET", "/api/user/audit", { token: accessToken })).body["events"] as {
        type: string;
      }[];
      expect(events.filter((event) => event.type === "login_failed")).toHaveLength(20);
      expect(events.map((event) => event.type)).not.toContain("reauthenticated");
    });

    it("shares the allowance with the other routes that re-check the password", async () => {
      const { accessToken } = await register(t.app, uniqueName("shared"));
      for (let i = 1; i <= 20; i++) {
        const res = await send(t.app, {
          method: "DELETE",
          url: "/api/user",
          token: accessToken,
          body: { password: `guess number ${i}` },
          remoteAddress: `198.18.2.${i}`,
        });
        expectError(res, 401, "invalid_credentials");
      }
      expectError(await reauth(t, accessToken), 429, "rate_limited");
    });

    it("refuses a wrong code and counts it towards the lockout, which then locks re-authentication too", async () => {
      const { accessToken, secret, userId } = await enrolledUser(t.app, t.clock, uniqueName("codes"));
      for (let i = 0; i < 10; i++) {
        const res = await reauth(t, accessToken, { password: strongPassword, code: wrongCode(secret, t.clock, i) });
        expectError(res, 401, "invalid_otp");
      }
      expect((await lockState(t, userId)).failed).toBe(10);
      const locked = await reauth(t, accessToken, { password: strongPassword, code: totpCode(secret, t.clock) });
      expectError(locked, 429, "rate_limited");
      expect((await lockState(t, userId)).lockedUntil).not.toBeNull();
    });

    it("refuses a code already used at sign-in (replay), and counts it", async () => {
      const name = uniqueName("replay");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const { accessToken } = await fullLogin(t, name, secret);
      const res = await reauth(t, accessToken, { password: strongPassword, code: totpCode(secret, t.clock) });
      expectError(res, 401, "otp_replayed");
      expect((await lockState(t, userId)).failed).toBe(1);
    });

    it("asks a two-factor account for its code: the password alone renews nothing", async () => {
      const { accessToken } = await enrolledUser(t.app, t.clock, uniqueName("nocode"));
      outlive(t);
      for (const body of [{ password: strongPassword }, { password: strongPassword, code: "" }]) {
        expectError(await reauth(t, accessToken, body), 401, "mfa_required");
      }
      expectError(await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken }), 401, "reauth_required");
    });

    it("never raises an aal-1 session: it stays aal 1 with its amr, also on a two-factor account", async () => {
      const plain = await register(t.app, uniqueName("aal1"));
      const renewed = await reauthenticated(t, plain.accessToken);
      expect(claimsOf(renewed.accessToken)).toMatchObject({
        aal: 1,
        amr: ["pwd"],
        sid: claimsOf(plain.accessToken).sid,
      });
      // A session that never passed the second factor on a two-factor account (as a policy's enrolment one).
      const { userId, secret } = await enrolledUser(t.app, t.clock, uniqueName("stepup"));
      const aal1 = await t.app.services.sessions.createSession(userId, ["pwd"], meta);
      const proved = await reauthenticated(t, aal1.access_token, {
        password: strongPassword,
        code: totpCode(secret, t.clock),
      });
      expect(claimsOf(proved.accessToken)).toMatchObject({ aal: 1, amr: ["pwd"] });
      expectError(await call(t.app, "GET", "/api/user/me", { token: proved.accessToken }), 401, "mfa_required");
    });

    it("refuses a revoked session, also when the revocation lands after the guard has read it", async () => {
      const { accessToken } = await register(t.app, uniqueName("revoked"));
      const auth = await t.app.services.sessions.authenticate(accessToken);
      if (auth === null) throw new Error("the fresh token does not authenticate");
      expect((await call(t.app, "POST", "/api/auth/logout", { token: accessToken })).status).toBe(204);
      const res = await reauth(t, accessToken);
      expectError(res, 401, "unauthorized");
      expect(String(res.headers["www-authenticate"])).toContain('error="invalid_token"');
      // The service, past the guard, with the context read before the logout: the conditional UPDATE refuses.
      const sessionRow = () =>
        t.db
          .selectFrom("session")
          .select(["revoked_at", "auth_time"])
          .where("id", "=", auth.sessionId)
          .executeTakeFirstOrThrow();
      const before = await sessionRow();
      t.clock.advance(5);
      await expect(
        t.app.services.reauth.reauthenticate(auth, { password: strongPassword }, meta),
      ).rejects.toMatchObject({
        code: "unauthorized",
      });
      const after = await sessionRow();
      expect(after.revoked_at).not.toBeNull();
      expect(Number(after.auth_time)).toBe(Number(before.auth_time));
    });

    it("kills the refresh token from before it: presented again, it ends the session", async () => {
      const { accessToken, refreshToken } = await register(t.app, uniqueName("rotated"));
      outlive(t);
      const fresh = await reauthenticated(t, accessToken);
      expect(authTimeOf(fresh.accessToken)).toBeGreaterThan(authTimeOf(accessToken));
      const stale = await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });
      expectError(stale, 401, "unauthorized");
      expectError(await call(t.app, "GET", "/api/user/me", { token: fresh.accessToken }), 401, "unauthorized");
    });
  });
}
