import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { login, register, strongPassword } from "../support/accounts.js";
import { call, expectError, type Json, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;

for (const dialect of testDialects()) {
  describe(`POST /api/auth/login and GET /api/user/me [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
      await register(t.app, "alice", { email: "alice@example.com" });
      // Login by email matches verified addresses only (test/email/claims.security.test.ts follows the link).
      await t.db
        .updateTable("user")
        .set({ email: "alice@example.com", email_verified: 1, email_claim: null })
        .where("username", "=", "alice")
        .execute();
    });
    afterAll(async () => t.close());

    it("logs in by username and answers tokens and the user", async () => {
      const res = await login(t.app, "alice");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual([
        "2fa_enabled",
        "access_token",
        "expires_in",
        "refresh_token",
        "token_type",
        "user",
      ]);
      expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 900, user: { username: "alice" } });
      expect(res.body["mfa_required"]).toBeUndefined();
      const me = await call(t.app, "GET", "/api/user/me", { token: String(res.body["access_token"]) });
      expect(me.status).toBe(200);
    });

    it("gives no session to an account deleted or locked between password check and session (a race)", async () => {
      const meta = { ip: "127.0.0.1", userAgent: "race/1.0" };
      for (const [name, change] of [
        ["race-deleted", (id: string) => t.db.deleteFrom("user").where("id", "=", id).execute()],
        ["race-locked", (id: string) => t.db.updateTable("user").set({ locked: 1 }).where("id", "=", id).execute()],
      ] as const) {
        const { userId } = await register(t.app, name);
        const row = await t.db.selectFrom("user").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
        const sessionsBefore = await t.db.selectFrom("session").select("id").where("user_id", "=", userId).execute();
        await change(userId);
        // The row as the password check read it; the account changed after that.
        await expect(t.app.services.login.completeFirstFactor(row, "pwd", meta)).rejects.toMatchObject({
          code: "invalid_credentials",
        });
        const sessionsAfter = await t.db.selectFrom("session").select("id").where("user_id", "=", userId).execute();
        expect(
          sessionsAfter.map((s) => s.id),
          name,
        ).toEqual(sessionsBefore.map((s) => s.id));
        const succeeded = await t.db
          .selectFrom("audit_event")
          .select("id")
          .where("user_id", "=", userId)
          .where("type", "=", "login_succeeded")
          .execute();
        expect(succeeded, name).toHaveLength(0);
      }
    });

    it("logs in by email, in any case", async () => {
      const res = await login(t.app, "ALICE@example.COM");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((res.body["user"] as Json)["username"]).toBe("alice");
    });

    it("logs in with a differently cased or fullwidth username", async () => {
      expect((await login(t.app, "Alice")).status).toBe(200);
      expect((await login(t.app, "ａｌｉｃｅ")).status).toBe(200);
    });

    it("accepts HTTP Basic credentials with no body", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        headers: { authorization: basic("alice", strongPassword) },
      });
      expect(res.status, res.text).toBe(200);
      expect(typeof res.body["access_token"]).toBe("string");
    });

    it("accepts HTTP Basic credentials whose password contains a colon", async () => {
      await register(t.app, "colon", { password: "pass:word:with:colons" });
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        headers: { authorization: basic("colon", "pass:word:with:colons") },
      });
      expect(res.status, res.text).toBe(200);
    });

    it("refuses HTTP Basic with a wrong password with 401 invalid_credentials", async () => {
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          headers: { authorization: basic("alice", "wrong password here") },
        }),
        401,
        "invalid_credentials",
      );
    });

    it("refuses a wrong password with 401 invalid_credentials", async () => {
      expectError(await login(t.app, "alice", "not the password"), 401, "invalid_credentials");
    });

    it("refuses an unknown user with 401 invalid_credentials", async () => {
      expectError(await login(t.app, "nobody-here"), 401, "invalid_credentials");
      expectError(await login(t.app, "nobody@example.com"), 401, "invalid_credentials");
    });

    it("refuses a login with neither body nor Basic header with 422", async () => {
      expectError(await send(t.app, { method: "POST", url: "/api/auth/login" }), 422, "validation_failed");
    });

    it("records failed logins in the audit log", async () => {
      await login(t.app, "alice", "wrong again");
      const types = await t.db.selectFrom("audit_event").select("type").where("type", "=", "login_failed").execute();
      expect(types.length).toBeGreaterThan(0);
    });

    it("answers /me with exactly the spec's fields", async () => {
      const { accessToken } = await register(t.app, "fields", { email: "fields@example.com" });
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.status).toBe(200);
      expect(Object.keys(me.body).sort()).toEqual([
        "created_at",
        "email",
        "email_verified",
        "id",
        "last_login_at",
        "mfa_enabled",
        "previous_login_at",
        "roles",
        "username",
      ]);
      expect(me.body).toMatchObject({
        username: "fields",
        email: "fields@example.com",
        email_verified: false,
        mfa_enabled: false,
        roles: [],
      });
    });

    it("shifts last_login_at into previous_login_at on each login", async () => {
      await register(t.app, "timed");
      const registeredAt = new Date(t.clock.now()).toISOString();
      t.clock.advance(60);
      const first = await login(t.app, "timed");
      const firstAt = new Date(t.clock.now()).toISOString();
      const me1 = await call(t.app, "GET", "/api/user/me", { token: String(first.body["access_token"]) });
      expect(me1.body["last_login_at"]).toBe(firstAt);
      expect(me1.body["previous_login_at"]).toBe(registeredAt);
      t.clock.advance(3600);
      const second = await login(t.app, "timed");
      const me2 = await call(t.app, "GET", "/api/user/me", { token: String(second.body["access_token"]) });
      expect(me2.body["last_login_at"]).toBe(new Date(t.clock.now()).toISOString());
      expect(me2.body["previous_login_at"]).toBe(firstAt);
      expect(me2.body["created_at"]).toBe(registeredAt);
    });

    it("does not move the login times on a failed login", async () => {
      const before = await login(t.app, "timed");
      const token = String(before.body["access_token"]);
      const snapshot = await call(t.app, "GET", "/api/user/me", { token });
      t.clock.advance(60);
      await login(t.app, "timed", "wrong password!!");
      const after = await call(t.app, "GET", "/api/user/me", { token });
      expect(after.body["last_login_at"]).toBe(snapshot.body["last_login_at"]);
      expect(after.body["previous_login_at"]).toBe(snapshot.body["previous_login_at"]);
    });

    it("refuses /me without a token, with a garbage token and with a Basic header: 401 unauthorized", async () => {
      expectError(await call(t.app, "GET", "/api/user/me"), 401, "unauthorized");
      expectError(await call(t.app, "GET", "/api/user/me", { token: "not.a.jwt" }), 401, "unauthorized");
      expectError(
        await call(t.app, "GET", "/api/user/me", { headers: { authorization: basic("alice", strongPassword) } }),
        401,
        "unauthorized",
      );
    });
  });
}
