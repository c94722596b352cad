import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { call, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

interface DevMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  sent_at: string;
}

async function devMail(t: TestApp): Promise<DevMessage[]> {
  await t.app.services.mailer.idle();
  const res = await call(t.app, "GET", "/dev/mail");
  expect(res.status).toBe(200);
  return (res.body["messages"] as DevMessage[] | undefined) ?? [];
}

function tokenIn(message: DevMessage | undefined, path: string): string {
  const token = new RegExp(`http://tessera\\.test${path}\\?token=([A-Za-z0-9_-]+)`).exec(message?.text ?? "")?.[1];
  expect(token, message?.text).toBeDefined();
  return token ?? "";
}

for (const dialect of testDialects()) {
  describe(`without SMTP_URL outside production: GET /dev/mail [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { NODE_ENV: "development" } });
    });
    afterAll(async () => t.close());

    it("lists every message newest first, and each flow can be finished from there", async () => {
      const { accessToken } = await register(t.app, "devon", { email: "devon@example.org" });
      const [verification] = await devMail(t);
      expect(verification).toMatchObject({ to: "devon@example.org", subject: "Tessera: Confirm your email address" });
      expect(verification?.html).toContain('<a href="http://tessera.test/verify-email?token=');
      expect(Number.isNaN(Date.parse(verification?.sent_at ?? ""))).toBe(false);
      expect(
        (
          await call(t.app, "POST", "/api/auth/email/verify", {
            body: { token: tokenIn(verification, "/verify-email") },
          })
        ).status,
      ).toBe(200);

      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "devon@example.org" } });
      await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "devon@example.org" } });
      const messages = await devMail(t);
      // Both requests answer 202 before their lookups run, so the two mails may be queued in either order.
      expect(
        messages
          .map((m) => m.subject)
          .slice(0, 2)
          .sort(),
      ).toEqual(["Tessera: Reset your password", "Tessera: Your sign-in link"]);
      expect(messages[2]?.subject).toBe("Tessera: Confirm your email address");
      // Listed in the order they were written (newest first); each says when it was delivered.
      for (const m of messages) expect(Number.isNaN(Date.parse(m.sent_at))).toBe(false);
      const bySubject = (subject: string): (typeof messages)[number] | undefined =>
        messages.find((m) => m.subject === subject);
      const signIn = await call(t.app, "POST", "/api/auth/magic-link/verify", {
        body: { token: tokenIn(bySubject("Tessera: Your sign-in link"), "/magic-link") },
      });
      expect(signIn.status).toBe(200);
      expect(typeof signIn.body["access_token"]).toBe("string");
      const reset = await call(t.app, "POST", "/api/auth/password/reset", {
        body: {
          token: tokenIn(bySubject("Tessera: Reset your password"), "/reset-password"),
          new_password: "devon's new passphrase",
        },
      });
      expect(reset.status).toBe(200);

      const login = await call(t.app, "POST", "/api/auth/login", {
        body: { username: "devon", password: "devon's new passphrase" },
      });
      expect(
        (await call(t.app, "POST", "/api/user/delete-request", { token: str((login.body as Json)["access_token"]) }))
          .status,
      ).toBe(202);
      const [deletion] = await devMail(t);
      expect(deletion?.subject).toBe("Tessera: Confirm deleting your account");
      expect(
        (
          await call(t.app, "POST", "/api/user/delete-confirm", {
            body: { token: tokenIn(deletion, "/delete-account") },
          })
        ).status,
      ).toBe(204);
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(401);
    });
  });
}

describe("in production", () => {
  let t: TestApp;
  beforeAll(async () => {
    const [sqlite] = testDialects();
    if (sqlite === undefined) throw new Error("no dialect");
    t = await appOn(sqlite, { env: { NODE_ENV: "production" } });
  });
  afterAll(async () => t.close());

  it("has no /dev/mail route and keeps no copy of any message", async () => {
    await register(t.app, "prod", { email: "prod@example.org" });
    await t.app.services.mailer.idle();
    const res = await call(t.app, "GET", "/dev/mail");
    expect(res.status).toBe(404);
    expect(await t.app.services.mailer.outbox()).toBeNull();
  });
});
