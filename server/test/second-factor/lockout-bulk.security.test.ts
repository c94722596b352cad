/*
 * Attack: guessing the six-digit code in bulk: a thousand guesses over fresh login tokens, thirty in
 * parallel, or guesses spread over the other routes that accept a code (/2fa/disable,
 * /2fa/recovery-codes). Pins SPEC §2 "Every rejected code … counts towards the lockout" and the
 * increment-then-check of STYLE S9: one lock for the account, whatever route or concurrency.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  fullLogin,
  guesser,
  loginToken,
  secondFactorLogin,
  strongPassword,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { lockState, secondFactorRows } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, retryAfter } from "../support/http.js";

const oneYearInSeconds = 60 * 60 * 24 * 365;

for (const dialect of testDialects()) {
  describe(`second-factor lockout under bulk guessing [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("never issues a token in 1,000 guesses over fresh login tokens, and stays locked", async () => {
      const name = uniqueName("thousand");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 1000; i++) {
        // A patient attacker: a new login token every time, and waits out every lock it is told about.
        // Its guesses are wrong ones, so what is measured is how many the server lets it check.
        const res = await secondFactorLogin(t.app, {
          login_token: await loginToken(t.app, name),
          code: wrongCode(secret, t.clock, i),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.body).not.toHaveProperty("access_token");
        if (res.status === 429) {
          const state = await lockState(t, userId);
          if (state.lockedUntil !== null && state.lockedUntil < t.clock.now() + oneYearInSeconds * 1000)
            t.clock.advance(retryAfter(res));
        }
      }
      expect(statuses.get(200)).toBeUndefined();
      expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(100);
      expect(statuses.get(429) ?? 0).toBeGreaterThanOrEqual(900);
      expect([...statuses.keys()].every((s) => s === 401 || s === 429)).toBe(true);
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock) }),
        429,
        "rate_limited",
      );
    }, 300_000);

    it("checks exactly 10 of 30 parallel wrong codes before locking, never more", async () => {
      const name = uniqueName("parallel-guess");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const tokens: string[] = [];
      for (let i = 0; i < 30; i++) tokens.push(await loginToken(t.app, name));
      const replies = await Promise.all(
        tokens.map((login_token, i) => secondFactorLogin(t.app, { login_token, code: wrongCode(secret, t.clock, i) })),
      );
      expect(replies.filter((r) => r.status === 401)).toHaveLength(10);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(20);
    });

    it("counts wrong codes on /2fa/disable and /2fa/recovery-codes to one lock; refused while locked", async () => {
      const name = uniqueName("routes");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const { accessToken: token } = await fullLogin(t, name, secret);
      t.clock.advance(30);
      let seed = 0;
      // A wrong password is refused before the code is looked at, and does not count here.
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", {
          token,
          body: { password: "wrong password!", code: wrongCode(secret, t.clock, seed++) },
        }),
        401,
        "invalid_credentials",
      );
      expect((await lockState(t, userId)).failed).toBe(0);
      for (let i = 0; i < 4; i++)
        expectError(
          await call(t.app, "POST", "/api/auth/2fa/disable", {
            token,
            body: { password: strongPassword, code: wrongCode(secret, t.clock, seed++) },
          }),
          401,
          "invalid_otp",
        );
      for (let i = 0; i < 3; i++)
        expectError(
          await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
            token,
            body: { password: strongPassword, code: wrongCode(secret, t.clock, seed++) },
          }),
          401,
          "invalid_otp",
        );
      const attacker = guesser(t, name);
      for (let i = 0; i < 3; i++)
        expectError(await attacker.guess(wrongCode(secret, t.clock, seed++)), 401, "invalid_otp");

      const right = totpCode(secret, t.clock);
      for (const route of ["/api/auth/2fa/disable", "/api/auth/2fa/recovery-codes"]) {
        const res = await call(t.app, "POST", route, { token, body: { password: strongPassword, code: right } });
        expectError(res, 429, "rate_limited");
        expect(retryAfter(res)).toBeGreaterThan(0);
      }
      expectError(await attacker.guess(right), 429, "rate_limited");
      expect(await secondFactorRows(t, userId)).toMatchObject({ credentials: 1, recoveryCodes: 10 });

      t.clock.advance(60);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/disable", {
            token,
            body: { password: strongPassword, code: totpCode(secret, t.clock) },
          })
        ).status,
      ).toBe(200);
    });
  });
}
