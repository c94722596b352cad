import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { register, totpCode } from "../support/accounts.js";
import { call, errorCode, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { lastMailTo, linkToken, mailSettled, useMailApp, verifiedEnrolledUser, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

/** The claims of an access token (the payload is plain base64url JSON). */
function claims(accessToken: string): Json {
  return JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as Json;
}

for (const dialect of testDialects()) {
  describe(`magic-link sign-in over SMTP [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    it("signs in by the emailed link as a first factor (amr email, aal 1) without two-factor", async () => {
      await verifiedUser(t, sink, "mona", "mona@example.org");
      const res = await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "MONA@example.org" } });
      expect(res.status).toBe(202);
      const mail = await lastMailTo(t, sink, "mona@example.org");
      expect(mail.subject).toBe("Tessera: Your sign-in link");
      expect(mail.text).toContain("expires in 15 minutes");

      const login = await call(t.app, "POST", "/api/auth/magic-link/verify", {
        body: { token: linkToken(mail, "/magic-link") },
      });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      const accessToken = str(login.body["access_token"]);
      expect(claims(accessToken)["amr"]).toEqual(["email"]);
      expect(claims(accessToken)["aal"]).toBe(1);
      expect(String(login.headers["set-cookie"])).toContain("tessera_refresh=");
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["username"]).toBe("mona");
    });

    it("answers a two-factor account's link with mfa_required; a TOTP code ends it with amr email+otp", async () => {
      const { secret } = await verifiedEnrolledUser(t, sink, "tfa", "tfa@example.org");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "tfa@example.org" } });
      const mail = await lastMailTo(t, sink, "tfa@example.org");
      const first = await call(t.app, "POST", "/api/auth/magic-link/verify", {
        body: { token: linkToken(mail, "/magic-link") },
      });
      expect(first.status).toBe(200);
      expect(first.body["mfa_required"]).toBe(true);
      expect(first.body["2fa_required"]).toBe(true);
      expect(first.body["access_token"]).toBeUndefined();
      expect(first.body["refresh_token"]).toBeUndefined();
      expect(first.headers["set-cookie"]).toBeUndefined();

      const second = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: str(first.body["login_token"]), code: totpCode(secret, t.clock) },
      });
      expect(second.status, JSON.stringify(second.body)).toBe(200);
      const token = str(second.body["access_token"]);
      expect(claims(token)["amr"]).toEqual(["email", "otp"]);
      expect(claims(token)["aal"]).toBe(2);
    });

    it("sends nothing to an unverified address, and answers exactly as for a verified one", async () => {
      await register(t.app, "unver", { email: "unverified@example.org" });
      await mailSettled(t);
      const before = sink.to("unverified@example.org").length;
      const res = await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "unverified@example.org" } });
      const known = await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "mona@example.org" } });
      expect([res.status, res.raw.body]).toEqual([known.status, known.raw.body]);
      await mailSettled(t);
      expect(sink.to("unverified@example.org")).toHaveLength(before);
    });

    it("refuses a used and a made-up link with 400 invalid_token", async () => {
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "mona@example.org" } });
      const token = linkToken(await lastMailTo(t, sink, "mona@example.org"), "/magic-link");
      expect((await call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token } })).status).toBe(200);
      const again = await call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token } });
      expect(again.status).toBe(400);
      expect(errorCode(again.body)).toBe("invalid_token");
      const madeUp = await call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token: "x".repeat(43) } });
      expect(errorCode(madeUp.body)).toBe("invalid_token");
    });
  });
}
