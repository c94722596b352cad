import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { login, loginToken, totpCode } from "../support/accounts.js";
import { call, errorCode, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import {
  lastMailTo,
  linkToken,
  linksIn,
  mailSettled,
  useMailApp,
  verifiedEnrolledUser,
  verifiedUser,
} from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

const newPassword = "a brand new passphrase 42";

for (const dialect of testDialects()) {
  describe(`password reset over SMTP [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    it("resets the password by the emailed link, keeps two-factor on, signs out every session and device", async () => {
      const { userId, secret, accessToken, refreshToken } = await verifiedEnrolledUser(
        t,
        sink,
        "rita",
        "rita@example.org",
      );
      // A second session, from a browser that is remembered as a trusted device.
      const remembered = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: await loginToken(t.app, "rita"), code: totpCode(secret, t.clock), remember_device: true },
      });
      expect(remembered.status, JSON.stringify(remembered.body)).toBe(200);
      const deviceCookie = String(remembered.headers["set-cookie"]).match(/tessera_device=[^;]+/)?.[0] ?? "";
      expect(deviceCookie).not.toBe("");
      t.clock.advance(30);
      const trusted = await call(t.app, "POST", "/api/auth/login", {
        body: { username: "rita", password: "correct horse battery staple" },
        headers: { cookie: deviceCookie },
      });
      expect(trusted.body["mfa_required"], "the remembered browser skips the code before the reset").toBeUndefined();

      const forgot = await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "rita@example.org" } });
      expect(forgot.status).toBe(202);
      const mail = await lastMailTo(t, sink, "rita@example.org");
      expect(mail.subject).toBe("Tessera: Reset your password");
      expect(mail.text).toContain("expires in 30 minutes");
      const token = linkToken(mail, "/reset-password");

      const reset = await call(t.app, "POST", "/api/auth/password/reset", {
        body: { token, new_password: newPassword },
      });
      expect(reset.status, JSON.stringify(reset.body)).toBe(200);
      expect(reset.body).toEqual({ password_reset: true });

      // Every old access and refresh token is dead, the other session's too.
      for (const token of [accessToken, str(remembered.body["access_token"])]) {
        expect((await call(t.app, "GET", "/api/user/me", { token })).status).toBe(401);
      }
      for (const refresh of [refreshToken, str(remembered.body["refresh_token"])]) {
        expect(
          (await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refresh } })).status,
        ).toBe(401);
      }
      const live = await t.db
        .selectFrom("session")
        .select("id")
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .execute();
      expect(live).toEqual([]);

      // The old password is refused; the new one still asks for the code, even from the remembered browser.
      expect((await login(t.app, "rita")).status).toBe(401);
      const fromDevice = await call(t.app, "POST", "/api/auth/login", {
        body: { username: "rita", password: newPassword },
        headers: { cookie: deviceCookie },
      });
      expect(fromDevice.status).toBe(200);
      expect(fromDevice.body["mfa_required"]).toBe(true);
      const finish = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: str(fromDevice.body["login_token"]), code: totpCode(secret, t.clock) },
      });
      expect(finish.status).toBe(200);
      const me = await call(t.app, "GET", "/api/user/me", { token: str(finish.body["access_token"]) });
      expect(me.body["mfa_enabled"]).toBe(true);

      const notice = await lastMailTo(t, sink, "rita@example.org");
      expect(notice.subject).toBe("Tessera: Your password was reset");
      expect(linksIn(notice)).toEqual([]);
    });

    it("ends a second-factor challenge started with the old password", async () => {
      const { secret } = await verifiedEnrolledUser(t, sink, "paula", "paula@example.org");
      const pending = await loginToken(t.app, "paula");
      await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "paula@example.org" } });
      const token = linkToken(await lastMailTo(t, sink, "paula@example.org"), "/reset-password");
      expect(
        (await call(t.app, "POST", "/api/auth/password/reset", { body: { token, new_password: newPassword } })).status,
      ).toBe(200);
      const res = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: pending, code: totpCode(secret, t.clock) },
      });
      expect(res.status).toBe(401);
      expect(errorCode(res.body)).toBe("login_token_expired");
    });

    it("refuses a weak new password with 422 and keeps the link usable", async () => {
      await verifiedUser(t, sink, "wendy", "wendy@example.org");
      await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "wendy@example.org" } });
      const token = linkToken(await lastMailTo(t, sink, "wendy@example.org"), "/reset-password");
      for (const weak of ["short", "password123", "wendy"]) {
        const res = await call(t.app, "POST", "/api/auth/password/reset", { body: { token, new_password: weak } });
        expect(res.status).toBe(422);
        expect(errorCode(res.body)).toBe("validation_failed");
      }
      const ok = await call(t.app, "POST", "/api/auth/password/reset", { body: { token, new_password: newPassword } });
      expect(ok.status).toBe(200);
      const reuse = await call(t.app, "POST", "/api/auth/password/reset", {
        body: { token, new_password: "yet another passphrase 7" },
      });
      expect(reuse.status).toBe(400);
      expect(errorCode(reuse.body)).toBe("invalid_token");
      expect((await login(t.app, "wendy", newPassword)).status).toBe(200);
    });

    it("answers 202 for an unknown address and sends nothing", async () => {
      await mailSettled(t);
      const count = sink.messages.length;
      const res = await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "nobody@example.org" } });
      expect(res.status).toBe(202);
      await mailSettled(t);
      expect(sink.messages.length).toBe(count);
    });
  });
}
