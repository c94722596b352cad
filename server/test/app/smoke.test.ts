import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, loginToken, register, totpCode } from "../support/accounts.js";
import { call } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`signup with two-factor, then login with a code [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("registers, enrols TOTP, logs in with a code and reads /me at aal 2", async () => {
      const { secret } = await enrolledUser(t.app, t.clock, "alice");
      const token = await loginToken(t.app, "alice");
      const res = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: token, code: totpCode(secret, t.clock) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const me = await call(t.app, "GET", "/api/user/me", { token: String(res.body["access_token"]) });
      expect(me.status).toBe(200);
      expect(me.body["mfa_enabled"]).toBe(true);
    });

    it("answers /me for a plain account", async () => {
      const { accessToken } = await register(t.app, "bob");
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["username"]).toBe("bob");
    });
  });
}
