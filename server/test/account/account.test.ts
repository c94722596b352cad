import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword, totpCode } from "../support/accounts.js";
import { dumpDatabase, tableNames } from "../support/database.js";
import { call, expectError, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const newPassword = "a brand new long passphrase";

for (const dialect of testDialects()) {
  describe(`POST /api/user/password [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("refuses a wrong current password with 401 and changes nothing", async () => {
      const { accessToken } = await register(t.app, "wrongcurrent");
      const res = await call(t.app, "POST", "/api/user/password", {
        token: accessToken,
        body: { current_password: "not my password", new_password: newPassword },
      });
      expectError(res, 401, "invalid_credentials");
      expect((await login(t.app, "wrongcurrent")).status).toBe(200);
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
    });

    it("refuses a weak new password with 422 and a reason", async () => {
      const { accessToken } = await register(t.app, "weaknew");
      const res = await call(t.app, "POST", "/api/user/password", {
        token: accessToken,
        body: { current_password: strongPassword, new_password: "iloveyou" },
      });
      expectError(res, 422, "validation_failed");
      expect(JSON.stringify(res.body)).toMatch(/new_password/);
      expect((await login(t.app, "weaknew")).status).toBe(200);
    });

    it("refuses a too short and a too long new password", async () => {
      const { accessToken } = await register(t.app, "lengthnew");
      for (const candidate of ["Zx9!abc", "Zx9!".repeat(64) + "q"]) {
        const res = await call(t.app, "POST", "/api/user/password", {
          token: accessToken,
          body: { current_password: strongPassword, new_password: candidate },
        });
        expectError(res, 422, "validation_failed");
      }
    });

    it("refuses the change without a token: 401", async () => {
      expectError(
        await call(t.app, "POST", "/api/user/password", {
          body: { current_password: strongPassword, new_password: newPassword },
        }),
        401,
        "unauthorized",
      );
    });

    it("changes the password, revokes the other sessions at once and keeps the current one", async () => {
      const { accessToken: current, refreshToken: currentRefresh } = await register(t.app, "changer");
      const other = await login(t.app, "changer");
      const otherToken = str(other.body["access_token"]);
      const otherRefresh = str(other.body["refresh_token"]);
      expect((await call(t.app, "GET", "/api/user/me", { token: otherToken })).status).toBe(200);

      const res = await call(t.app, "POST", "/api/user/password", {
        token: current,
        body: { current_password: strongPassword, new_password: newPassword },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(204);

      expectError(await call(t.app, "GET", "/api/user/me", { token: otherToken }), 401, "unauthorized");
      expectError(
        await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: otherRefresh } }),
        401,
        "unauthorized",
      );
      expect((await call(t.app, "GET", "/api/user/me", { token: current })).status).toBe(200);
      expect(
        (await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: currentRefresh } })).status,
      ).toBe(200);

      expect((await login(t.app, "changer", newPassword)).status).toBe(200);
      expectError(await login(t.app, "changer", strongPassword), 401, "invalid_credentials");
      const audit = await t.db
        .selectFrom("audit_event")
        .select("type")
        .where("type", "=", "password_changed")
        .execute();
      expect(audit).toHaveLength(1);
    });

    it("asks for a code when two-factor is on, and accepts the change with one", async () => {
      const { accessToken, secret } = await enrolledUser(t.app, t.clock, "changer2fa");
      const body = { current_password: strongPassword, new_password: newPassword };
      expectError(await call(t.app, "POST", "/api/user/password", { token: accessToken, body }), 401, "mfa_required");
      expectError(
        await call(t.app, "POST", "/api/user/password", { token: accessToken, body: { ...body, code: "000000" } }),
        401,
        "invalid_otp",
      );
      // A trusted device from an earlier "remember this device" login.
      const remembered = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: {
          login_token: await loginToken(t.app, "changer2fa"),
          code: totpCode(secret, t.clock),
          remember_device: true,
        },
      });
      expect(remembered.status, JSON.stringify(remembered.body)).toBe(200);
      const current = str(remembered.body["access_token"]);
      expect(
        ((await call(t.app, "GET", "/api/auth/sessions", { token: current })).body["trusted_devices"] as unknown[])
          .length,
      ).toBe(1);
      t.clock.advance(30);
      const ok = await call(t.app, "POST", "/api/user/password", {
        token: current,
        body: { ...body, code: totpCode(secret, t.clock) },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(204);
      expect((await call(t.app, "GET", "/api/auth/sessions", { token: current })).body["trusted_devices"]).toEqual([]);
      expect((await login(t.app, "changer2fa", newPassword)).body["mfa_required"]).toBe(true);
    });
  });

  describe(`DELETE /api/user [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("refuses a wrong password with 401 and keeps the account", async () => {
      const { accessToken } = await register(t.app, "keeper");
      expectError(
        await call(t.app, "DELETE", "/api/user", { token: accessToken, body: { password: "wrong password" } }),
        401,
        "invalid_credentials",
      );
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
    });

    it("refuses a delete without a body with 422", async () => {
      const { accessToken } = await register(t.app, "nobody-body");
      expectError(await call(t.app, "DELETE", "/api/user", { token: accessToken }), 422, "validation_failed");
    });

    it("deletes the account and every row of it, and nothing of another account", async () => {
      const bystander = await register(t.app, "bystander");
      const bystanderRows = async (): Promise<number[]> =>
        Promise.all(
          (["user", "session", "audit_event"] as const).map(
            async (table) =>
              (
                await t.db
                  .selectFrom(table)
                  .selectAll()
                  .where(table === "user" ? "id" : "user_id", "=", bystander.userId)
                  .execute()
              ).length,
          ),
        );
      const bystanderBefore = await bystanderRows();
      const { userId, secret, recoveryCodes } = await enrolledUser(t.app, t.clock, "leaver");
      // A login with "remember this device" leaves a trusted device, and a second challenge stays pending.
      const first = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: {
          login_token: await loginToken(t.app, "leaver"),
          code: totpCode(secret, t.clock),
          remember_device: true,
        },
      });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      await loginToken(t.app, "leaver");
      t.clock.advance(30);
      const accessToken = str(first.body["access_token"]);
      const refreshToken = str(first.body["refresh_token"]);
      for (const table of [
        "session",
        "totp_credential",
        "recovery_code",
        "login_challenge",
        "trusted_device",
        "audit_event",
      ] as const) {
        const rows = await t.db.selectFrom(table).select("user_id").where("user_id", "=", userId).execute();
        expect(rows.length, table).toBeGreaterThan(0);
      }

      expectError(
        await call(t.app, "DELETE", "/api/user", { token: accessToken, body: { password: strongPassword } }),
        401,
        "mfa_required",
      );
      const res = await call(t.app, "DELETE", "/api/user", {
        token: accessToken,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(204);

      expect(await t.db.selectFrom("user").select("id").where("id", "=", userId).execute()).toEqual([]);
      for (const table of tableNames) {
        if (["user", "signing_key", "refresh_token", "oidc_client"].includes(table)) continue;
        const rows = await t.db.selectFrom(table).selectAll().where("user_id", "=", userId).execute();
        expect(rows, table).toEqual([]);
      }
      const sessionIds = (await t.db.selectFrom("session").select("id").execute()).map((row) => row.id);
      const orphans = await t.db
        .selectFrom("refresh_token")
        .select("token_hash")
        .where((eb) => (sessionIds.length === 0 ? eb.val(true) : eb("session_id", "not in", sessionIds)))
        .execute();
      expect(orphans, "refresh tokens of deleted sessions").toEqual([]);
      // Nothing that names the account survives (the deletion record carries only the opaque id).
      const after = await dumpDatabase(t.db);
      expect(after).not.toContain("leaver");
      for (const code of recoveryCodes) expect(after).not.toContain(code);
      expect(await bystanderRows(), "the bystander's rows are untouched").toEqual(bystanderBefore);
      expect((await call(t.app, "GET", "/api/user/me", { token: bystander.accessToken })).status).toBe(200);

      expectError(await call(t.app, "GET", "/api/user/me", { token: accessToken }), 401, "unauthorized");
      expectError(
        await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } }),
        401,
        "unauthorized",
      );
      expectError(await login(t.app, "leaver"), 401, "invalid_credentials");
      expect((await register(t.app, "leaver")).userId).not.toBe(userId);
    });
  });
}
