import { describe, expect, it } from "vitest";
import { passwordLogin, rememberedLogin } from "../support/accounts.js";
import type { TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError } from "../support/http.js";
import { lastMailTo, linkToken, useMailApp, verifiedEnrolledUser, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

/*
 * Attack: getting into a locked account by a side door. An administrator locked it; its owner (or whoever holds
 * its mailbox or a remembered browser) tries the emailed sign-in link, a link requested before the lock, and a
 * trusted device. Pins SPEC §2 "a locked account cannot sign in at all".
 */

const meta = { ip: null, userAgent: "locked sign-in test" };

for (const dialect of testDialects()) {
  describe(`a locked account's other ways in [${dialect.name}]`, () => {
    let t: TestApp;
    let sink: SMTPSink;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    it("refuses an emailed sign-in link requested before the lock", async () => {
      const { userId } = await verifiedUser(t, sink, "locked-link", "locked-link@example.org");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "locked-link@example.org" } });
      const early = linkToken(await lastMailTo(t, sink, "locked-link@example.org"), "/magic-link");
      await t.app.services.admin.setLocked(null, userId, true, meta);
      expectError(
        await call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token: early } }),
        403,
        "forbidden",
      );
    });

    it("refuses a remembered browser of a locked two-factor account", async () => {
      const { userId, secret } = await verifiedEnrolledUser(t, sink, "locked-device", "locked-device@example.org");
      const { cookie } = await rememberedLogin(t, "locked-device", secret);
      // Before the lock the remembered browser skips the code.
      expect((await passwordLogin(t.app, "locked-device", { tessera_device: cookie })).body).toHaveProperty(
        "access_token",
      );
      await t.app.services.admin.setLocked(null, userId, true, meta);
      const res = await passwordLogin(t.app, "locked-device", { tessera_device: cookie });
      expectError(res, 403, "forbidden");
      expect(res.body["access_token"]).toBeUndefined();
    });
  });
}
