import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, fullLogin, loginToken, register, secondFactorLogin } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError } from "../support/http.js";

// GET /api/auth/2fa/status: what the profile shows of two-factor, recovery codes left included.
for (const dialect of testDialects()) {
  describe(`GET /api/auth/2fa/status [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("says two-factor is off and no codes are left for a fresh account", async () => {
      const { accessToken } = await register(t.app, "status-off");
      const res = await call(t.app, "GET", "/api/auth/2fa/status", { token: accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ mfa_enabled: false, recovery_codes_remaining: 0 });
    });

    it("counts down as recovery codes are used", async () => {
      const { secret, recoveryCodes } = await enrolledUser(t.app, t.clock, "status-on");
      const { accessToken } = await fullLogin(t, "status-on", secret);
      const status = async (): Promise<unknown> =>
        (await call(t.app, "GET", "/api/auth/2fa/status", { token: accessToken })).body;
      expect(await status()).toEqual({ mfa_enabled: true, recovery_codes_remaining: 10 });
      for (const code of recoveryCodes.slice(0, 3)) {
        const used = await secondFactorLogin(t.app, {
          login_token: await loginToken(t.app, "status-on"),
          recovery_code: code,
        });
        expect(used.status).toBe(200);
      }
      expect(await status()).toEqual({ mfa_enabled: true, recovery_codes_remaining: 7 });
    });

    it("answers 401 without a token", async () => {
      expectError(await call(t.app, "GET", "/api/auth/2fa/status"), 401, "unauthorized");
    });
  });
}
