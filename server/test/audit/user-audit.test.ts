import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword, totpCode } from "../support/accounts.js";
import { call, expectError, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`GET /api/user/audit [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("lists the user's own security events with time, IP and user agent, and stores no secret", async () => {
      const secrets: string[] = [strongPassword];
      const { accessToken, refreshToken, secret, recoveryCodes } = await enrolledUser(t.app, t.clock, "watched");
      secrets.push(accessToken, refreshToken, secret, ...recoveryCodes);
      const wrongPassword = "my-wrong-password-guess";
      secrets.push(wrongPassword);
      await login(t.app, "watched", wrongPassword);
      const challenge = await loginToken(t.app, "watched");
      secrets.push(challenge);
      const wrongCode = "123456" === totpCode(secret, t.clock) ? "654321" : "123456";
      await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: challenge, code: wrongCode } });
      const code = totpCode(secret, t.clock);
      secrets.push(code);
      const ok = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: challenge, code },
        headers: { "user-agent": "audit-agent/1.0" },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const token = str(ok.body["access_token"]);
      secrets.push(token, str(ok.body["refresh_token"]));
      const used = recoveryCodes[0] ?? "";
      const recovery = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: await loginToken(t.app, "watched"), recovery_code: used },
      });
      expect(recovery.status).toBe(200);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: str(ok.body["refresh_token"]) },
      });
      secrets.push(str(refreshed.body["refresh_token"]), str(refreshed.body["access_token"]));
      const newPassword = "the new secret passphrase";
      t.clock.advance(30);
      const change = await call(t.app, "POST", "/api/user/password", {
        token,
        body: { current_password: strongPassword, new_password: newPassword, code: totpCode(secret, t.clock) },
      });
      expect(change.status, JSON.stringify(change.body)).toBe(204);
      secrets.push(newPassword, totpCode(secret, t.clock));
      await register(t.app, "someone-else");

      const res = await call(t.app, "GET", "/api/user/audit", { token });
      expect(res.status).toBe(200);
      const events = res.body["events"] as Json[];
      const types = events.map((e) => e["type"]);
      for (const expected of [
        "register",
        "mfa_enabled",
        "login_failed",
        "mfa_failed",
        "login_succeeded",
        "recovery_code_used",
        "password_changed",
      ]) {
        expect(types, expected).toContain(expected);
      }
      const success = events.find((e) => e["type"] === "login_succeeded" && e["user_agent"] === "audit-agent/1.0");
      expect(success).toMatchObject({ ip: "127.0.0.1", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      // Only this user's events.
      const mine = await t.db
        .selectFrom("audit_event")
        .select("id")
        .where(
          "user_id",
          "=",
          (await t.db.selectFrom("user").select("id").where("username", "=", "watched").executeTakeFirstOrThrow()).id,
        )
        .execute();
      expect(events.map((e) => e["id"]).sort()).toEqual(mine.map((row) => row.id).sort());
      // Newest first.
      expect(events.map((e) => String(e["id"]))).toEqual(
        events
          .map((e) => String(e["id"]))
          .sort()
          .reverse(),
      );

      const stored = JSON.stringify(await t.db.selectFrom("audit_event").selectAll().execute());
      for (const value of secrets) {
        expect(stored, "audit rows leak a secret").not.toContain(value);
        expect(JSON.stringify(res.body), "audit reply leaks a secret").not.toContain(value);
        expect(stored).not.toContain(createHash("sha256").update(value).digest("hex"));
      }
      for (const code6 of secrets.filter((s) => /^\d{6}$/.test(s)))
        expect(stored).not.toMatch(new RegExp(`\\b${code6}\\b`));
    });

    it("refuses the audit route without a token", async () => {
      expectError(await call(t.app, "GET", "/api/user/audit"), 401, "unauthorized");
    });
  });
}
