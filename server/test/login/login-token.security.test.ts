/*
 * Attack: stretching a login token. An attacker holding a login_token (the password step passed)
 * uses it after its five minutes, sends it more than five wrong codes, or uses it again after a
 * login. Pins SPEC §2 "The login_token is single-use, lives 5 minutes, and allows at most 5 wrong
 * codes", and SPEC §3 "used and expired challenges answer their error and count towards nothing": a pile
 * of dead login tokens cannot lock the owner's second factor.
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

    it("an attacker sending codes on expired login tokens counts nothing and cannot lock the account", async () => {
      const name = uniqueName("expired");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const stale: string[] = [];
      for (let i = 0; i < 15; i++) stale.push(await loginToken(t.app, name));
      t.clock.advance(301);
      for (const [i, token] of stale.entries()) {
        expectError(
          await secondFactorLogin(t.app, { login_token: token, code: wrongCode(secret, t.clock, i) }),
          401,
          "login_token_expired",
        );
      }
      expect(await lockState(t, userId)).toMatchObject({ failed: 0, consecutive: 0, lockedUntil: null });
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock),
          })
        ).status,
      ).toBe(200);
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
      expect((await lockState(t, userId)).failed).toBe(5); // the sixth, on a dead token, counts nothing
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

    it("refuses a login token once used, and counts nothing for it", async () => {
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
      expect((await lockState(t, userId)).failed).toBe(0);
    });

    it("a burst of wrong codes on one login token counts at most its five attempts", async () => {
      const name = uniqueName("burst");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const token = await loginToken(t.app, name);
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          secondFactorLogin(t.app, { login_token: token, code: wrongCode(secret, t.clock, i) }),
        ),
      );
      expect(replies.filter((r) => r.status === 401 && r.body["error"] !== undefined)).toHaveLength(20);
      expect((await lockState(t, userId)).failed).toBe(5);
    });
  });
}
