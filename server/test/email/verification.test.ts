import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { login, register, strongPassword } from "../support/accounts.js";
import { call, errorCode } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { lastMailTo, linkToken, mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`email verification and email change over SMTP [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    it("mails a verification link on register; following it marks the address verified in /me", async () => {
      const { accessToken } = await register(t.app, "vera", { email: "Vera@Example.org" });
      const mail = await lastMailTo(t, sink, "vera@example.org");
      expect(mail.from).toBe("tessera@tessera.test");
      expect(mail.subject).toContain("Confirm your email address");
      expect(mail.text).toContain("expires in 24 hours");
      expect(mail.text).toContain("If you did not ask for this");
      const before = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(before.body["email_verified"]).toBe(false);

      const res = await call(t.app, "POST", "/api/auth/email/verify", {
        body: { token: linkToken(mail, "/verify-email") },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ email_verified: true });
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["email"]).toBe("vera@example.org");
      expect(me.body["email_verified"]).toBe(true);
    });

    it("changes the address only once the link sent to the new one is opened, and tells the old one", async () => {
      const { accessToken } = await register(t.app, "carl", { email: "carl@example.org" });
      const first = await lastMailTo(t, sink, "carl@example.org");
      await call(t.app, "POST", "/api/auth/email/verify", { body: { token: linkToken(first, "/verify-email") } });

      const res = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "carl.new@example.org", password: strongPassword },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const mail = await lastMailTo(t, sink, "carl.new@example.org");
      const pending = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(pending.body["email"]).toBe("carl@example.org");
      expect(pending.body["email_verified"]).toBe(true);

      const verify = await call(t.app, "POST", "/api/auth/email/verify", {
        body: { token: linkToken(mail, "/verify-email") },
      });
      expect(verify.status).toBe(200);
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["email"]).toBe("carl.new@example.org");
      expect(me.body["email_verified"]).toBe(true);
      const notice = await lastMailTo(t, sink, "carl@example.org");
      expect(notice.subject).toContain("email address was changed");
    });

    it("asks for the password to change the address, and the route needs a session", async () => {
      const { accessToken } = await register(t.app, "dora", { email: "dora@example.org" });
      const wrong = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "x@example.org", password: "not the password" },
      });
      expect(wrong.status).toBe(401);
      expect(errorCode(wrong.body)).toBe("invalid_credentials");
      const anonymous = await call(t.app, "POST", "/api/user/email", {
        body: { email: "x@example.org", password: strongPassword },
      });
      expect(anonymous.status).toBe(401);
      const malformed = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "not an address", password: strongPassword },
      });
      expect(malformed.status).toBe(422);
      await mailSettled(t);
      expect(sink.to("x@example.org")).toHaveLength(0);
    });

    it("answers an address of another account with the same 202, attaches nothing, and tells its owner", async () => {
      await verifiedUser(t, sink, "owner1", "taken@example.org");
      await mailSettled(t);
      const ownerMailsBefore = sink.to("taken@example.org").length;
      const { accessToken } = await register(t.app, "thief", { email: "thief@example.org" });
      const res = await call(t.app, "POST", "/api/user/email", {
        token: accessToken,
        body: { email: "taken@example.org", password: strongPassword },
      });
      const control = await call(t.app, "POST", "/api/user/email", {
        token: (await register(t.app, "control")).accessToken,
        body: { email: "free@example.org", password: strongPassword },
      });
      expect(res.status).toBe(202);
      expect([res.status, res.raw.body, res.headers["content-type"]]).toEqual([
        control.status,
        control.raw.body,
        control.headers["content-type"],
      ]);
      await mailSettled(t);
      const newMails = sink.to("taken@example.org").slice(ownerMailsBefore);
      expect(newMails).toHaveLength(1);
      expect(newMails[0]?.subject).toContain("tried to use your email address");
      expect(newMails[0]?.text).not.toMatch(/token=/);
      // Claimed, as any address is before its link is opened (SPEC "Email"), and never verified there.
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect([me.body["email"], me.body["email_verified"]]).toEqual(["taken@example.org", false]);
    });

    it("registers with an address of another account: same reply, not attached, the owner is told", async () => {
      await verifiedUser(t, sink, "owner2", "owned@example.org");
      await mailSettled(t);
      const before = sink.to("owned@example.org").length;
      const fresh = await register(t.app, "newcomer", { email: "fresh@example.org" });
      const copycat = await register(t.app, "copycat", { email: "owned@example.org" });
      const shape = (body: Record<string, unknown>): unknown => ({
        ...(body["user"] as object),
        id: "",
        username: "",
        created_at: "",
        last_login_at: "",
      });
      expect({ ...(shape(copycat.body) as object), email: "" }).toEqual({
        ...(shape(fresh.body) as object),
        email: "",
      });
      expect((copycat.body["user"] as Record<string, unknown>)["email"]).toBe("owned@example.org");
      await mailSettled(t);
      const after = sink.to("owned@example.org").slice(before);
      expect(after.map((m) => m.subject)).toEqual(["Tessera: Someone tried to use your email address"]);
      const me = await call(t.app, "GET", "/api/user/me", { token: copycat.accessToken });
      expect([me.body["email"], me.body["email_verified"]]).toEqual(["owned@example.org", false]);
    });

    it("answers 400 invalid_token for a made-up, an empty-ish or an oversized token", async () => {
      for (const token of ["nope", "A".repeat(43), "x".repeat(512)]) {
        const res = await call(t.app, "POST", "/api/auth/email/verify", { body: { token } });
        expect(res.status).toBe(400);
        expect(errorCode(res.body)).toBe("invalid_token");
      }
      const tooLong = await call(t.app, "POST", "/api/auth/email/verify", { body: { token: "x".repeat(513) } });
      expect(tooLong.status).toBe(422);
    });
  });

  describe(`REQUIRE_EMAIL_VERIFICATION=true [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(
      dialect,
      (app, smtp) => {
        t = app;
        sink = smtp;
      },
      { REQUIRE_EMAIL_VERIFICATION: "true" },
    );

    it("refuses a password login until the address is verified, then lets it through", async () => {
      const registered = await call(t.app, "POST", "/api/auth/register", {
        body: { username: "strict", password: strongPassword, email: "strict@example.org" },
      });
      expect(registered.status).toBe(201);
      expect(registered.body["verification_required"]).toBe(true);
      const refused = await login(t.app, "strict");
      expect(refused.status).toBe(403);
      expect(errorCode(refused.body)).toBe("forbidden");
      const mail = await lastMailTo(t, sink, "strict@example.org");
      expect(
        (await call(t.app, "POST", "/api/auth/email/verify", { body: { token: linkToken(mail, "/verify-email") } }))
          .status,
      ).toBe(200);
      const allowed = await login(t.app, "strict");
      expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
      expect(typeof allowed.body["access_token"]).toBe("string");
    });
  });
}
