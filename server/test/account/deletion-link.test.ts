import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { login, register } from "../support/accounts.js";
import { call, errorCode } from "../support/http.js";
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

for (const dialect of testDialects()) {
  describe(`account deletion by emailed link [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    it("emails a link on request and deletes the account and all its rows when it is confirmed", async () => {
      const { userId, accessToken } = await verifiedUser(t, sink, "gone", "gone@example.org");
      const res = await call(t.app, "POST", "/api/user/delete-request", { token: accessToken });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const mail = await lastMailTo(t, sink, "gone@example.org");
      expect(mail.subject).toBe("Tessera: Confirm deleting your account");
      expect(mail.text).toContain("expires in 30 minutes");
      expect(mail.text).toContain("cannot be undone");
      // Requesting is not deleting.
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);

      const confirm = await call(t.app, "POST", "/api/user/delete-confirm", {
        body: { token: linkToken(mail, "/delete-account") },
      });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(204);
      expect(await t.db.selectFrom("user").select("id").where("id", "=", userId).execute()).toEqual([]);
      for (const table of ["session", "link_token", "audit_event", "trusted_device", "login_challenge"] as const) {
        expect(await t.db.selectFrom(table).select("user_id").where("user_id", "=", userId).execute(), table).toEqual(
          [],
        );
      }
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(401);
      expect((await login(t.app, "gone")).status).toBe(401);
      const notice = await lastMailTo(t, sink, "gone@example.org");
      expect(notice.subject).toBe("Tessera: Your account was deleted");
      expect(linksIn(notice)).toEqual([]);
    });

    it("works for a two-factor account at full assurance, and the link is single-use", async () => {
      const { accessToken } = await verifiedEnrolledUser(t, sink, "gone2", "gone2@example.org");
      expect((await call(t.app, "POST", "/api/user/delete-request", { token: accessToken })).status).toBe(202);
      const token = linkToken(await lastMailTo(t, sink, "gone2@example.org"), "/delete-account");
      expect((await call(t.app, "POST", "/api/user/delete-confirm", { body: { token } })).status).toBe(204);
      const again = await call(t.app, "POST", "/api/user/delete-confirm", { body: { token } });
      expect(again.status).toBe(400);
      expect(errorCode(again.body)).toBe("invalid_token");
    });

    it("needs a session to ask, and a verified address to send the link to", async () => {
      expect((await call(t.app, "POST", "/api/user/delete-request")).status).toBe(401);
      const { accessToken } = await register(t.app, "noaddress");
      const refused = await call(t.app, "POST", "/api/user/delete-request", { token: accessToken });
      expect(refused.status).toBe(403);
      expect(errorCode(refused.body)).toBe("forbidden");
      const unverified = await register(t.app, "unverified", { email: "unverified@example.org" });
      await mailSettled(t);
      const before = sink.to("unverified@example.org").length;
      expect((await call(t.app, "POST", "/api/user/delete-request", { token: unverified.accessToken })).status).toBe(
        403,
      );
      await mailSettled(t);
      expect(sink.to("unverified@example.org")).toHaveLength(before);
    });

    it("answers a made-up deletion token with 400 invalid_token and deletes nothing", async () => {
      const users = await t.db.selectFrom("user").select("id").execute();
      const res = await call(t.app, "POST", "/api/user/delete-confirm", { body: { token: "x".repeat(43) } });
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("invalid_token");
      expect(await t.db.selectFrom("user").select("id").execute()).toHaveLength(users.length);
    });
  });
}
