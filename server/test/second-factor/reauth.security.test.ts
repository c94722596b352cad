/*
 * Attack: a stolen access token (or refresh token) used for what would take the account over, after
 * the owner's sign-in is older than REAUTH_MAX_AGE. Without re-authentication the thief could turn
 * two-factor on with their own phone (locking the owner out), confirm a setup the owner left open,
 * move the account to their email address, ask for a deletion link, or act as an administrator.
 * Each answers 401 `reauth_required` (SPEC "Re-authentication") and changes nothing; the routes that
 * carry the password (and code) refuse a thief who lacks them, and keep working for the owner who has
 * them; a refresh never makes an old sign-in recent; a fresh POST /api/auth/reauth opens them all.
 * The clock is fixed, so the ages are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, fullLogin, register, strongPassword, totpCode, uniqueName } from "../support/accounts.js";
import { call, expectError, str } from "../support/http.js";
import { authTimeOf, expectReauthRequired, outlive, reauthenticated } from "../support/reauth.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`a stolen token after REAUTH_MAX_AGE [${dialect.name}]`, () => {
    let t: TestApp;
    let maxAge: number;
    beforeAll(async () => {
      t = await appOn(dialect);
      maxAge = t.config.reauthMaxAgeSeconds;
    });
    afterAll(async () => t.close());

    const mfaEnabled = async (token: string): Promise<unknown> =>
      (await call(t.app, "GET", "/api/user/me", { token })).body["mfa_enabled"];

    it("cannot start a two-factor setup, read its QR code, or confirm one, and two-factor stays off", async () => {
      const { accessToken } = await register(t.app, uniqueName("victim"));
      // The owner opened a setup while their sign-in was recent, and walked away.
      const open = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      expect(open.status).toBe(200);
      outlive(t);
      expectReauthRequired(await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken }), maxAge);
      expectReauthRequired(await call(t.app, "GET", "/api/auth/2fa/qrcode.png", { token: accessToken }), maxAge);
      // Even the right code (read over the owner's shoulder) does not turn it on.
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: accessToken,
        body: { code: totpCode(str(open.body["secret"]), t.clock) },
      });
      expectReauthRequired(confirm, maxAge);
      expect(await mfaEnabled(accessToken)).toBe(false);
    });

    it("cannot change the email address of a two-factor account, even knowing the password", async () => {
      const { accessToken } = await enrolledUser(t.app, t.clock, uniqueName("mailvictim"));
      outlive(t);
      const res = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "thief@example.org", password: strongPassword },
      });
      expectReauthRequired(res, maxAge);
      const events = (await call(t.app, "GET", "/api/user/audit", { token: accessToken })).body["events"] as {
        type: string;
      }[];
      expect(events.map((event) => event.type)).not.toContain("email_change_requested");
    });

    it("cannot ask for the emailed deletion link", async () => {
      const { accessToken, userId } = await register(t.app, uniqueName("linkvictim"));
      await t.db
        .updateTable("user")
        .set({ email: `${userId}@example.org`, email_verified: 1 })
        .where("id", "=", userId)
        .execute();
      outlive(t);
      expectReauthRequired(await call(t.app, "POST", "/api/user/delete-request", { token: accessToken }), maxAge);
    });

    it("cannot change the password, turn two-factor off, renew codes or delete the account without them", async () => {
      const { accessToken, secret } = await enrolledUser(t.app, t.clock, uniqueName("fullvictim"));
      outlive(t);
      const guess = { password: "the thief's best guess", code: totpCode(secret, t.clock) };
      const attempts = [
        call(t.app, "POST", "/api/user/password", {
          token: accessToken,
          body: { current_password: guess.password, new_password: "the thief's new passphrase", code: guess.code },
        }),
        call(t.app, "POST", "/api/auth/2fa/disable", { token: accessToken, body: guess }),
        call(t.app, "POST", "/api/auth/2fa/recovery-codes", { token: accessToken, body: guess }),
        call(t.app, "DELETE", "/api/user", { token: accessToken, body: guess }),
      ];
      for (const res of await Promise.all(attempts)) expectError(res, 401, "invalid_credentials");
      // The right password without a code is not enough either.
      const noCode = await call(t.app, "DELETE", "/api/user", {
        token: accessToken,
        body: { password: strongPassword },
      });
      expectError(noCode, 401, "mfa_required");
      expect(await mfaEnabled(accessToken)).toBe(true);
    });

    it("keeps the old sign-in time through a refresh: a stolen refresh token makes nothing recent", async () => {
      const { accessToken, refreshToken } = await register(t.app, uniqueName("refreshvictim"));
      outlive(t);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });
      expect(refreshed.status).toBe(200);
      const newToken = str(refreshed.body["access_token"]);
      expect(authTimeOf(newToken)).toBe(authTimeOf(accessToken));
      expectReauthRequired(await call(t.app, "POST", "/api/auth/2fa/setup", { token: newToken }), maxAge);
    });

    it("counts a sign-in exactly REAUTH_MAX_AGE old as recent, and one a second older as not", async () => {
      const { accessToken } = await register(t.app, uniqueName("boundary"));
      t.clock.advance(maxAge);
      expect((await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).status).toBe(200);
      t.clock.advance(1);
      expectReauthRequired(await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken }), maxAge);
    });

    it("opens every one of them to the owner after a fresh re-authentication", async () => {
      const name = uniqueName("owner");
      const { accessToken, secret, userId } = await enrolledUser(t.app, t.clock, name);
      await t.db
        .updateTable("user")
        .set({ email: `${name}@example.org`, email_verified: 1 })
        .where("id", "=", userId)
        .execute();
      outlive(t);
      const fresh = await reauthenticated(t, accessToken, {
        password: strongPassword,
        code: totpCode(secret, t.clock),
      });
      const token = fresh.accessToken;
      expect(authTimeOf(token)).toBe(Math.floor(t.clock.now() / 1000));
      const change = await call(t.app, "POST", "/api/user/email", {
        token,
        body: { email: `${name}.new@example.org`, password: strongPassword },
      });
      expect(change.status, change.text).toBe(202);
      expect((await call(t.app, "POST", "/api/user/delete-request", { token })).status).toBe(202);
      t.clock.advance(30);
      const off = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
      });
      expect(off.status, off.text).toBe(200);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
      expect(setup.status).toBe(200);
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token,
        body: { code: totpCode(str(setup.body["secret"]), t.clock) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      // The session verify-setup opens keeps the re-authentication's time: it proves nothing newer.
      expect(authTimeOf(str(confirm.body["access_token"]))).toBe(authTimeOf(token));
    });

    it("still lets the owner act with an old sign-in when the request carries the password and code", async () => {
      const name = uniqueName("carrier");
      const { accessToken, secret } = await enrolledUser(t.app, t.clock, name);
      outlive(t);
      const codes = await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
        token: accessToken,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
      });
      expect(codes.status, codes.text).toBe(200);
      t.clock.advance(30);
      const changed = await call(t.app, "POST", "/api/user/password", {
        token: accessToken,
        body: {
          current_password: strongPassword,
          new_password: "an entirely new passphrase",
          code: totpCode(secret, t.clock),
        },
      });
      expect(changed.status, changed.text).toBe(204);
      t.clock.advance(30);
      const deleted = await call(t.app, "DELETE", "/api/user", {
        token: accessToken,
        body: { password: "an entirely new passphrase", code: totpCode(secret, t.clock) },
      });
      expect(deleted.status, deleted.text).toBe(204);
    });

    it("lets an account without two-factor change its email with the password alone, however old", async () => {
      const { accessToken } = await register(t.app, uniqueName("onefactor"));
      outlive(t);
      const change = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "one.factor@example.org", password: strongPassword },
      });
      expect(change.status, change.text).toBe(202);
    });

    it("refuses every admin action with an old sign-in, and allows it after re-authentication", async () => {
      const name = uniqueName("admin");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      await t.app.services.admin.grantRole(name, "admin");
      const { accessToken } = await fullLogin(t, name, secret);
      const victim = await register(t.app, uniqueName("locked"));
      expect((await call(t.app, "GET", "/api/admin/users", { token: accessToken })).status).toBe(200);
      outlive(t);
      for (const [method, url] of [
        ["GET", "/api/admin/users"],
        ["GET", "/api/admin/audit"],
        ["POST", `/api/admin/users/${victim.userId}/lock`],
        ["POST", `/api/admin/users/${victim.userId}/reset-2fa`],
      ] as const) {
        expectReauthRequired(await call(t.app, method, url, { token: accessToken }), maxAge);
      }
      expect((await call(t.app, "GET", "/api/user/me", { token: victim.accessToken })).status).toBe(200);
      t.clock.advance(30);
      const fresh = await reauthenticated(t, accessToken, {
        password: strongPassword,
        code: totpCode(secret, t.clock),
      });
      const lock = await call(t.app, "POST", `/api/admin/users/${victim.userId}/lock`, { token: fresh.accessToken });
      expect(lock.status).toBe(204);
    });
  });
}

describe("REAUTH_MAX_AGE is the operator's", () => {
  it("applies a shorter window: 30 seconds", async () => {
    const [sqlite] = testDialects();
    if (sqlite === undefined) throw new Error("no SQLite dialect");
    const t = await appOn(sqlite, { env: { REAUTH_MAX_AGE: "30" } });
    try {
      const { accessToken } = await register(t.app, "short-window");
      t.clock.advance(30);
      expect((await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).status).toBe(200);
      t.clock.advance(1);
      expectReauthRequired(await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken }), 30);
    } finally {
      await t.close();
    }
  });
});
