import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { call, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { linkToken } from "../support/mail.js";
import { freePort, startSMTPSink, type SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`SMTP server down when mail is sent [${dialect.name}]`, () => {
    let port: number;
    let t: TestApp;
    let sink: SMTPSink | undefined;
    beforeAll(async () => {
      port = await freePort();
      t = await appOn(dialect, { env: { SMTP_URL: `smtp://127.0.0.1:${port}?starttls=off` } });
    });
    afterAll(async () => {
      await t.close();
      await sink?.close();
    });

    it("answers the request at once, retries, and delivers once the server is up", async () => {
      const started = Date.now();
      const { accessToken } = await register(t.app, "patient", { email: "patient@example.org" });
      const forgot = await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "patient@example.org" } });
      expect(forgot.status).toBe(202);
      expect(Date.now() - started, "the replies did not wait for SMTP").toBeLessThan(1500);

      // The first try met a closed port; the queue is still holding the message for a retry.
      let idle = false;
      void t.app.services.mailer.idle().then(() => (idle = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(idle).toBe(false);

      // /metrics tells the operator: one message waiting, one failed attempt at least.
      const waiting = (await send(t.app, { method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" })).raw.body;
      expect(waiting).toMatch(/^tessera_mail_outbox_queued 1$/m);
      expect(waiting).toMatch(/^tessera_mail_attempts_failed_total [1-9]/m);
      expect(waiting).toMatch(/^tessera_mail_sent_total 0$/m);

      sink = await startSMTPSink({ port });
      await t.app.services.mailer.idle();
      const after = (await send(t.app, { method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" })).raw.body;
      expect(after).toMatch(/^tessera_mail_outbox_queued 0$/m);
      expect(after).toMatch(/^tessera_mail_sent_total 1$/m);
      const mails = sink.to("patient@example.org");
      expect(mails.map((m) => m.subject)).toEqual(["Tessera: Confirm your email address"]);
      const [mail] = mails;
      if (mail === undefined) throw new Error("no mail");
      const verify = await call(t.app, "POST", "/api/auth/email/verify", {
        body: { token: linkToken(mail, "/verify-email") },
      });
      expect(verify.status).toBe(200);
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).body["email_verified"]).toBe(true);
    });
  });
}
