import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, login, loginToken, register, secondFactorLogin, totpCode } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, str } from "../support/http.js";

// Clients written for the seeds' APIs keep their field names (SPEC §2 "Two-factor", last bullet; the
// README's seed table): provisioning_uri (seed 000), qr_base64 and 2fa_enabled (seed 004), otp and
// token for code (seeds 000, 001, 004), an empty code counting as absent.

for (const dialect of testDialects()) {
  describe(`seed clients' field names [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("setup replies carry provisioning_uri and qr_base64 beside otpauth_url and qr_png", async () => {
      const { accessToken, body } = await register(t.app, "seed-zero", { enable_mfa: true });
      const fromRegister = body["mfa_setup"] as Record<string, unknown>;
      expect(fromRegister["provisioning_uri"]).toBe(fromRegister["otpauth_url"]);
      expect(fromRegister["qr_base64"]).toBe(fromRegister["qr_png"]);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      expect(setup.status).toBe(200);
      expect(str(setup.body["provisioning_uri"])).toMatch(/^otpauth:\/\/totp\/Tessera:seed-zero\?secret=/);
      expect(setup.body["provisioning_uri"]).toBe(setup.body["otpauth_url"]);
      expect(str(setup.body["qr_base64"])).toMatch(/^data:image\/png;base64,/);
    });

    it("every login reply carries 2fa_enabled: tokens, the challenge, and the second step", async () => {
      await register(t.app, "seed-plain");
      const plain = await login(t.app, "seed-plain");
      expect(plain.body).toMatchObject({ "2fa_enabled": false, user: { mfa_enabled: false } });

      const { secret } = await enrolledUser(t.app, t.clock, "seed-four");
      const challenge = await login(t.app, "seed-four");
      expect(challenge.body).toMatchObject({ mfa_required: true, "2fa_required": true, "2fa_enabled": true });
      const done = await secondFactorLogin(t.app, {
        login_token: str(challenge.body["login_token"]),
        otp: totpCode(secret, t.clock),
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({ "2fa_enabled": true, user: { mfa_enabled: true } });
    });

    it("takes an empty code beside a valid otp or token as absent, and does not count it", async () => {
      const { secret } = await enrolledUser(t.app, t.clock, "seed-empty");
      const token = await loginToken(t.app, "seed-empty");
      // Six empty codes: were any counted, the login token (5 wrong codes at most) would be dead.
      for (let i = 0; i < 6; i++)
        expectError(await secondFactorLogin(t.app, { login_token: token, code: "" }), 422, "validation_failed");
      const res = await secondFactorLogin(t.app, { login_token: token, code: "", otp: totpCode(secret, t.clock) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);

      t.clock.advance(30);
      const second = await loginToken(t.app, "seed-empty");
      const viaToken = await secondFactorLogin(t.app, {
        login_token: second,
        code: "",
        recovery_code: "",
        token: totpCode(secret, t.clock),
      });
      expect(viaToken.status, JSON.stringify(viaToken.body)).toBe(200);
    });

    it("confirms a setup with seed 004's {token} and disables with seed 000's {password, token}", async () => {
      const { accessToken } = await register(t.app, "seed-token");
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      const secret = str(setup.body["secret"]);
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: accessToken,
        body: { code: "", token: totpCode(secret, t.clock) },
      });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      t.clock.advance(30);
      const disable = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token: str(confirm.body["access_token"]),
        body: { password: "correct horse battery staple", token: totpCode(secret, t.clock) },
      });
      expect(disable.status, JSON.stringify(disable.body)).toBe(200);
    });
  });
}
