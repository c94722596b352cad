import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { loginToken, register, strongPassword, totpCode } from "../support/accounts.js";
import { call, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { linksIn, mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import { type ReceivedMail, type SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`security notices by mail [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    /** Runs `action` and returns the mail it caused to `address`. */
    async function mailsFrom(address: string, action: () => Promise<unknown>): Promise<ReceivedMail[]> {
      await mailSettled(t);
      const before = sink.to(address).length;
      await action();
      await mailSettled(t);
      return sink.to(address).slice(before);
    }

    it("tells the owner of two-factor on and off, new and used recovery codes, a new password; no link", async () => {
      const address = "nina@example.org";
      const { accessToken } = await verifiedUser(t, sink, "nina", address);
      let secret = "";
      let token = accessToken;
      let recoveryCodes: string[] = [];
      const subjects: string[] = [];
      const expectNotice = async (subject: string, action: () => Promise<unknown>): Promise<void> => {
        const mails = await mailsFrom(address, action);
        expect(mails.map((m) => m.subject)).toEqual([`Tessera: ${subject}`]);
        const [mail] = mails;
        if (mail === undefined) return;
        expect(linksIn(mail)).toEqual([]);
        expect(mail.text).toContain("If this was not you");
        expect(mail.text).toMatch(/IP address: /);
        subjects.push(mail.subject);
      };

      await expectNotice("Two-factor authentication turned on", async () => {
        const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
        secret = str(setup.body["secret"]);
        const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
          token,
          body: { code: totpCode(secret, t.clock) },
        });
        expect(confirm.status).toBe(200);
        token = str(confirm.body["access_token"]);
        recoveryCodes = confirm.body["recovery_codes"] as string[];
      });
      t.clock.advance(30);
      await expectNotice("New recovery codes", async () => {
        const res = await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
          token,
          body: { password: strongPassword, code: totpCode(secret, t.clock) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        recoveryCodes = res.body["recovery_codes"] as string[];
      });
      t.clock.advance(30);
      await expectNotice("A recovery code was used", async () => {
        const res = await call(t.app, "POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(t.app, "nina"), recovery_code: recoveryCodes[0] },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      });
      await expectNotice("Your password was changed", async () => {
        const res = await call(t.app, "POST", "/api/user/password", {
          token,
          body: {
            current_password: strongPassword,
            new_password: "another good passphrase",
            code: totpCode(secret, t.clock),
          },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(204);
      });
      t.clock.advance(30);
      await expectNotice("Two-factor authentication turned off", async () => {
        const res = await call(t.app, "POST", "/api/auth/2fa/disable", {
          token,
          body: { password: "another good passphrase", code: totpCode(secret, t.clock) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      });
      expect(subjects).toHaveLength(5);
    });

    it("tells the owner of a sign-in from a new browser, once, not of the one they registered with", async () => {
      const address = "olga@example.org";
      await verifiedUser(t, sink, "olga", address);
      const loginWith = (userAgent?: string): Promise<unknown> =>
        call(t.app, "POST", "/api/auth/login", {
          body: { username: "olga", password: strongPassword },
          ...(userAgent === undefined ? {} : { headers: { "user-agent": userAgent } }),
        });

      expect(await mailsFrom(address, () => loginWith())).toEqual([]);
      const firstFromPhone = await mailsFrom(address, () => loginWith("Phone <b>Browser</b> 1.0"));
      expect(firstFromPhone.map((m) => m.subject)).toEqual(["Tessera: New sign-in to your account"]);
      const [mail] = firstFromPhone;
      expect(mail?.text).toContain("Browser or app: Phone <b>Browser</b> 1.0");
      // Every interpolated value is escaped in the HTML part.
      expect(mail?.html).toContain("Phone &#60;b&#62;Browser&#60;/b&#62; 1.0");
      expect(mail?.html).not.toContain("<b>Browser");
      expect(await mailsFrom(address, () => loginWith("Phone <b>Browser</b> 1.0"))).toEqual([]);
    });

    it("sends nothing to an account without an address", async () => {
      const { accessToken } = await register(t.app, "quiet");
      await mailSettled(t);
      const count = sink.messages.length;
      await call(t.app, "POST", "/api/user/password", {
        token: accessToken,
        body: { current_password: strongPassword, new_password: "another good passphrase" },
      });
      await call(t.app, "POST", "/api/auth/login", {
        body: { username: "quiet", password: "another good passphrase" },
        headers: { "user-agent": "Elsewhere/2" },
      });
      await mailSettled(t);
      expect(sink.messages.length).toBe(count);
    });
  });
}
