/*
 * Attack: a working session for an address nobody proved to hold, with REQUIRE_EMAIL_VERIFICATION=true.
 * The operator asked that no account act before its address is verified (SPEC "Email"); registering
 * with someone else's address (or a made-up one) must yield no access token, no refresh token and no
 * cookie, and password login stays refused. A session that exists from before the operator turned the
 * setting on neither refreshes nor authenticates. Verifying the address (the emailed link) is the one
 * way in; after it, login and refresh work as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { login, register, strongPassword } from "../support/accounts.js";
import { call, expectError, send, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { lastMailTo, linkToken, mailApp } from "../support/mail.js";
import { startSMTPSink, type SMTPSink } from "../support/smtp-sink.js";

const strict = { REQUIRE_EMAIL_VERIFICATION: "true" };

for (const dialect of testDialects()) {
  describe(`REQUIRE_EMAIL_VERIFICATION=true gives an unverified account no session [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    /** The same database without the setting: sessions made before the operator turned it on. */
    let before: TestApp;
    beforeAll(async () => {
      sink = await startSMTPSink();
      t = await mailApp(dialect, sink, strict);
      // Every instance's outbox worker delivers any instance's mail (SPEC "Mail is never lost"): this one
      // mails to the same sink, or a message it happens to claim first would never reach the test.
      before = await buildTestApp({
        databaseUrl: t.databaseUrl,
        secretKey: t.secretKey,
        clock: t.clock,
        groupCommit: false,
        env: { SMTP_URL: sink.url, MAIL_FROM: "Tessera <tessera@tessera.test>" },
      });
    });
    afterAll(async () => {
      await before.close();
      await t.close();
      await sink.close();
    });

    it("answers register with 201, the user and verification_required, and no token or cookie", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "squatter", password: strongPassword, email: "someone.else@example.org", enable_mfa: true },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body["verification_required"]).toBe(true);
      expect(res.body["user"]).toMatchObject({ username: "squatter", email_verified: false });
      for (const field of ["access_token", "refresh_token", "mfa_setup"]) expect(res.body).not.toHaveProperty(field);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(await t.db.selectFrom("session").select("id").execute()).toEqual([]);
    });

    it("keeps refusing password login, by username and by the unverified address", async () => {
      for (const name of ["squatter", "someone.else@example.org"]) {
        const res = await login(t.app, name);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.body).not.toHaveProperty("access_token");
      }
      expectError(await login(t.app, "squatter"), 403, "forbidden");
    });

    it("requires an address to register: without one nothing could ever sign in", async () => {
      const res = await call(t.app, "POST", "/api/auth/register", {
        body: { username: "no-address", password: strongPassword },
      });
      expectError(res, 422, "validation_failed");
      expect(res.body).toMatchObject({ error: { details: [{ field: "email" }] } });
    });

    it("neither refreshes nor accepts a session opened before the setting was on", async () => {
      const old = await register(before.app, "earlier", { email: "earlier@example.org" });
      expect((await call(before.app, "GET", "/api/user/me", { token: old.accessToken })).status).toBe(200);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: old.refreshToken },
      });
      expectError(refreshed, 401, "unauthorized");
      expectError(await call(t.app, "GET", "/api/user/me", { token: old.accessToken }), 401, "unauthorized");
    });

    it("lets the account in once the emailed link verified its address", async () => {
      await call(t.app, "POST", "/api/auth/register", {
        body: { username: "honest", password: strongPassword, email: "honest@example.org" },
      });
      const mail = await lastMailTo(t, sink, "honest@example.org");
      const verified = await call(t.app, "POST", "/api/auth/email/verify", {
        body: { token: linkToken(mail, "/verify-email") },
      });
      expect(verified.status).toBe(200);
      const res = await login(t.app, "honest");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: str(res.body["refresh_token"]) },
      });
      expect(refreshed.status).toBe(200);
      expect((await call(t.app, "GET", "/api/user/me", { token: str(refreshed.body["access_token"]) })).status).toBe(
        200,
      );
    });
  });
}
