import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  loginToken,
  register,
  secondFactorLogin,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { lockState } from "../support/database.js";
import { call, errorCode, expectError, type Json, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: malformed second-factor input. An attacker sends codes that a lax parser might accept as
 * the right one (the correct digits with a space, in fullwidth or Arabic-Indic digits, with extra
 * digits, as a JSON number) or bodies meant to crash the handler. Pins SPEC §3 "Malformed input of
 * any kind gets a 4xx with validation_failed, never a 5xx" and §2 "a request that fails the schema
 * (422) does not reach verification"; RFC 6238 codes are exactly six ASCII digits.
 */

const fullwidth = (digits: string): string => [...digits].map((d) => String.fromCodePoint(0xff10 + Number(d))).join("");
const arabicIndic = (digits: string): string =>
  [...digits].map((d) => String.fromCodePoint(0x0660 + Number(d))).join("");

function expectRefused(res: { status: number; body: Json }, label: string): void {
  expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, label).toBeLessThan(500);
  expect(res.body, label).not.toHaveProperty("access_token");
  expect([401, 422], label).toContain(res.status);
  expect(res.status === 401 ? "invalid_otp" : "validation_failed", label).toBe(errorCode(res.body));
}

for (const dialect of testDialects()) {
  describe(`malformed second-factor input is refused cleanly [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("refuses look-alikes of the right code and never consumes it", async () => {
      const name = uniqueName("lookalike");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const right = totpCode(secret, t.clock);
      const variants: Record<string, string> = {
        "space in the middle": `${right.slice(0, 3)} ${right.slice(3)}`,
        "leading space": ` ${right}`,
        "trailing newline": `${right}\n`,
        "dash in the middle": `${right.slice(0, 3)}-${right.slice(3)}`,
        "a letter": `${right.slice(0, 5)}a`,
        "letters only": "abcdef",
        "five digits": right.slice(0, 5),
        "seven digits": `${right}0`,
        "fullwidth digits": fullwidth(right),
        "Arabic-Indic digits": arabicIndic(right),
        "empty string": "",
        "64 characters": right.repeat(11).slice(0, 64),
        "sign and exponent": "+1e5",
        "NUL byte": `${right.slice(0, 5)}\u0000`,
      };
      for (const [label, code] of Object.entries(variants)) {
        expectRefused(await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code }), label);
        await t.app.services.lockout.reset(userId); // each variant on its own, not a brute force
      }
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: "1".repeat(65) }),
        422,
        "validation_failed",
      );
      // None of the look-alikes spent the step: the real code still logs in.
      expect((await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: right })).status).toBe(
        200,
      );
    });

    it("refuses malformed recovery codes without a server error", async () => {
      const name = uniqueName("bad-recovery");
      const { recoveryCodes, userId } = await enrolledUser(t.app, t.clock, name);
      const right = recoveryCodes[0] ?? "";
      for (const code of [
        "",
        "----",
        right.slice(0, -1),
        `${right}A`,
        right.replaceAll(/[A-Z]/g, "1"),
        "%00",
        "' OR 1=1 --",
        "x".repeat(64),
      ]) {
        expectRefused(
          await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: code }),
          JSON.stringify(code),
        );
        await t.app.services.lockout.reset(userId);
      }
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: "x".repeat(65) }),
        422,
        "validation_failed",
      );
      expect(
        (await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), recovery_code: right })).status,
      ).toBe(200);
    });

    it("answers malformed /2fa/login bodies with 422 validation_failed and does not count them", async () => {
      const name = uniqueName("bodies");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      const right = totpCode(secret, t.clock);
      const bodies: Record<string, unknown> = {
        "code as a number": { login_token: token, code: Number(right) },
        "code as null": { login_token: token, code: null },
        "code as an array": { login_token: token, code: [right] },
        "code as an object": { login_token: token, code: { value: right } },
        "missing login_token": { code: right },
        "empty login_token": { login_token: "", code: right },
        "login_token as a number": { login_token: 12345, code: right },
        "login_token too long": { login_token: "a".repeat(129), code: right },
        "both code and recovery_code": { login_token: token, code: right, recovery_code: "AAAA-BBBB-CCCC-DDDD" },
        "neither code nor recovery_code": { login_token: token },
        "remember_device as a string": { login_token: token, code: right, remember_device: "yes" },
        "an array body": [{ login_token: token, code: right }],
        "a string body": "login_token",
      };
      for (const [label, payload] of Object.entries(bodies)) {
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/2fa/login",
          payload: payload as object,
          headers: { "content-type": "application/json" },
        });
        expectError(res, 422, "validation_failed");
        expect(res.body, label).not.toHaveProperty("access_token");
      }
      const invalidJson = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: '{"login_token": ',
        headers: { "content-type": "application/json" },
      });
      expectError(invalidJson, 422, "validation_failed");
      const huge = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: { login_token: token, code: right, pad: "x".repeat(100_000) },
      });
      expect(huge.status).toBe(413);
      const form = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: `login_token=${token}&code=${right}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(form.status).toBe(415);

      // None reached verification: no lockout count, and the login token and code are unspent.
      expect(await lockState(t, userId)).toMatchObject({ failed: 0, consecutive: 0 });
      expect((await secondFactorLogin(t.app, { login_token: token, code: right })).status).toBe(200);
    });

    it("refuses malformed codes on verify-setup, disable and recovery-codes without a server error", async () => {
      const name = uniqueName("other-routes");
      const { accessToken } = await register(t.app, name);
      const secret = str((await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).body["secret"]);
      const right = totpCode(secret, t.clock);
      for (const code of [fullwidth(right), `${right.slice(0, 3)} ${right.slice(3)}`, "", "x".repeat(64)]) {
        const res = await call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code } });
        expect([401, 422]).toContain(res.status);
      }
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code: Number(right) } }),
        422,
        "validation_failed",
      );
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: accessToken,
        body: { code: right },
      });
      expect(confirm.status).toBe(200);
      const token = str(confirm.body["access_token"]);
      t.clock.advance(30);
      const now = totpCode(secret, t.clock);
      for (const route of ["/api/auth/2fa/disable", "/api/auth/2fa/recovery-codes"]) {
        expectError(
          await call(t.app, "POST", route, { token, body: { password: strongPassword, code: Number(now) } }),
          422,
          "validation_failed",
        );
        expectError(
          await call(t.app, "POST", route, { token, body: { password: strongPassword, code: fullwidth(now) } }),
          401,
          "invalid_otp",
        );
        expectError(await call(t.app, "POST", route, { token, body: { code: now } }), 422, "validation_failed");
      }
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
            token,
            body: { password: strongPassword, code: now },
          })
        ).status,
      ).toBe(200);
    });
  });
}
