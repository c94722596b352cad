/*
 * Attack: stretching a login token. An attacker holding a login_token (the password step passed)
 * uses it after its five minutes, sends it more than five wrong codes, or uses it again after a
 * login. Pins SPEC §2 "The login_token is single-use, lives 5 minutes, and allows at most 5 wrong
 * codes", and that each such refusal still counts towards the account lockout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, loginToken, secondFactorLogin, totpCode, uniqueName, wrongCode } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { lockState } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { expectError } from "../support/http.js";

for (const dialect of testDialects()) {
  describe(`login token limits [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("answers an expired login token with a valid code as login_token_expired, and counts it", async () => {
      const name = uniqueName("expired");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      t.clock.advance(301);
      expectError(
        await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) }),
        401,
        "login_token_expired",
      );
      expect((await lockState(t, userId)).failed).toBe(1);
      // Nine more expired tokens (inside the 15-minute window) make ten failures; the eleventh attempt meets the lock.
      const stale: string[] = [];
      for (let i = 0; i < 9; i++) stale.push(await loginToken(t.app, name));
      t.clock.advance(301);
      for (const token of stale) {
        expectError(
          await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) }),
          401,
          "login_token_expired",
        );
      }
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock) }),
        429,
        "rate_limited",
      );
    });

    it("accepts a login token just before its five minutes are over", async () => {
      const name = uniqueName("in-time");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      t.clock.advance(299);
      expect((await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) })).status).toBe(
        200,
      );
    });

    it("allows a login token at most five wrong codes: the sixth is refused even when correct", async () => {
      const name = uniqueName("five");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      for (let i = 0; i < 5; i++)
        expectError(
          await secondFactorLogin(t.app, { login_token: token, code: wrongCode(secret, t.clock, i) }),
          401,
          "invalid_otp",
        );
      expectError(
        await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) }),
        401,
        "login_token_expired",
      );
      expect((await lockState(t, userId)).failed).toBe(6);
      // Four wrong codes and then the right one on one token is fine.
      await t.app.services.lockout.reset(userId);
      const second = await loginToken(t.app, name);
      for (let i = 0; i < 4; i++)
        expectError(
          await secondFactorLogin(t.app, { login_token: second, code: wrongCode(secret, t.clock, i) }),
          401,
          "invalid_otp",
        );
      expect((await secondFactorLogin(t.app, { login_token: second, code: totpCode(secret, t.clock) })).status).toBe(
        200,
      );
    });

    it("refuses a login token once used, and counts the attempt", async () => {
      const name = uniqueName("used-token");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      expect((await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) })).status).toBe(
        200,
      );
      t.clock.advance(30);
      expectError(
        await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) }),
        401,
        "login_token_expired",
      );
      expect((await lockState(t, userId)).failed).toBe(1);
    });
  });
}
