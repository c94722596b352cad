import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register, strongPassword } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call } from "../support/http.js";

// SPEC §2: every 202 carries a JSON body, never `null` (clients that parse every reply choke on it).
for (const dialect of testDialects()) {
  describe(`202 replies [${dialect.name}]`, () => {
    let t: TestApp;
    let accessToken: string;
    beforeAll(async () => {
      t = await appOn(dialect);
      ({ accessToken } = await register(t.app, "accepted", { email: "accepted@example.org" }));
      await t.app.services.mailer.idle();
      // A deletion link goes only to a verified address: verify it from the development outbox.
      const outbox = await call(t.app, "GET", "/dev/mail");
      const token = /verify-email\?token=([\w-]+)/.exec(outbox.text)?.[1];
      expect((await call(t.app, "POST", "/api/auth/email/verify", { body: { token } })).status).toBe(200);
    });
    afterAll(async () => t.close());

    it.each([
      ["POST /api/auth/magic-link", "/api/auth/magic-link", { body: { email: "accepted@example.org" } }],
      ["POST /api/auth/password/forgot", "/api/auth/password/forgot", { body: { email: "nobody@example.org" } }],
      ["POST /api/user/email", "/api/user/email", { body: { email: "new@example.org", password: strongPassword } }],
      ["POST /api/user/delete-request", "/api/user/delete-request", {}],
    ])("%s answers 202 with {status: accepted}", async (_label, url, options: { body?: unknown }) => {
      const res = await call(t.app, "POST", url, { ...options, token: accessToken });
      expect(res.status, res.text).toBe(202);
      expect(String(res.headers["content-type"])).toMatch(/^application\/json/);
      expect(res.body).toEqual({ status: "accepted" });
    });
  });
}
