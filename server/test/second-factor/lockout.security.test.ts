/*
 * Attack: brute-forcing the six-digit code. One code in 10^6 (three in 10^6 with the ±1 step window)
 * falls to an attacker who can guess fast enough, spread over fresh login tokens, over several
 * routes that accept a code, or in parallel. Pins SPEC §2 "allows at most 5 wrong codes", "While the
 * account's second factor is locked out … /2fa/login answers 429 rate_limited", "Every rejected code
 * (wrong, replayed) counts towards the lockout" (a dead challenge counts nothing: login-token tests), and
 * SPEC §3 "a lockout with
 * backoff … never more than 100 consecutive failures" (NIST SP 800-63B §5.2.2).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  guesser,
  login,
  loginToken,
  secondFactorLogin,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { lockState, secondFactorRows, userIdOf } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { expectError, retryAfter } from "../support/http.js";

const oneYearInSeconds = 60 * 60 * 24 * 365;

for (const dialect of testDialects()) {
  describe(`second-factor lockout [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("after 10 wrong codes refuses the 11th, even the right one, with 429 rate_limited and Retry-After", async () => {
      const name = uniqueName("ten");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const attacker = guesser(t, name);
      for (let i = 0; i < 10; i++) expectError(await attacker.guess(wrongCode(secret, t.clock, i)), 401, "invalid_otp");
      const locked = await attacker.guess(totpCode(secret, t.clock));
      expectError(locked, 429, "rate_limited");
      expect(retryAfter(locked)).toBe(60);
      t.clock.advance(59);
      const still = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: totpCode(secret, t.clock),
      });
      expectError(still, 429, "rate_limited");
      expect(retryAfter(still)).toBe(1);
    });

    it("still answers the password step with a login_token while the second factor is locked", async () => {
      const name = uniqueName("pwd-while-locked");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const attacker = guesser(t, name);
      for (let i = 0; i < 11; i++) await attacker.guess(wrongCode(secret, t.clock, i));
      expect((await lockState(t, await userIdOf(t, name))).lockedUntil).not.toBeNull();
      const res = await login(t.app, name);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mfa_required: true });
      expect(res.body).not.toHaveProperty("access_token");
    });

    it("allows codes again once the lock runs out, and doubles the next lock", async () => {
      const name = uniqueName("backoff");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const attacker = guesser(t, name);
      const locks: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 10; i++)
          expectError(await attacker.guess(wrongCode(secret, t.clock, i)), 401, "invalid_otp");
        const locked = await attacker.guess(wrongCode(secret, t.clock, 99));
        expectError(locked, 429, "rate_limited");
        locks.push(retryAfter(locked));
        t.clock.advance(retryAfter(locked));
      }
      expect(locks).toEqual([60, 120, 240]);
      // The lock has run out: the right code is accepted and clears the backoff.
      expect((await attacker.guess(totpCode(secret, t.clock))).status).toBe(200);
      expect(await lockState(t, await userIdOf(t, name))).toMatchObject({
        failed: 0,
        consecutive: 0,
        lockedUntil: null,
        lockouts: 0,
      });
    });

    it("locks the second factor for good after 100 consecutive failures, until an admin resets the lock", async () => {
      const name = uniqueName("hundred");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const attacker = guesser(t, name);
      let evaluated = 0;
      let previousLock = 0;
      for (let i = 0; i < 200; i++) {
        const res = await attacker.guess(wrongCode(secret, t.clock, i));
        if (res.status === 401) {
          evaluated += 1;
          continue;
        }
        expectError(res, 429, "rate_limited");
        const state = await lockState(t, userId);
        const lockedForGood = state.lockedUntil !== null && state.lockedUntil > t.clock.now() + oneYearInSeconds * 1000;
        if (lockedForGood) break;
        const seconds = retryAfter(res);
        if (previousLock !== 0) expect(seconds).toBe(previousLock * 2);
        previousLock = seconds;
        t.clock.advance(seconds);
      }
      // Waiting out every lock gets the attacker close to, but never past, 100 checked codes.
      expect(evaluated).toBeGreaterThanOrEqual(90);
      expect(evaluated).toBeLessThanOrEqual(100);

      t.clock.advance(oneYearInSeconds);
      const later = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: totpCode(secret, t.clock),
      });
      expectError(later, 429, "rate_limited");
      expect(retryAfter(later)).toBeGreaterThan(0);

      await t.app.services.lockout.reset(userId);
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock),
          })
        ).status,
      ).toBe(200);
    });

    it("lifts a permanent lock by an administrator's two-factor reset, which turns two-factor off", async () => {
      const name = uniqueName("hundred-admin");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      await t.db.updateTable("user").set({ mfa_consecutive_failures: 100 }).where("id", "=", userId).execute();
      await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: wrongCode(secret, t.clock) });
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock) }),
        429,
        "rate_limited",
      );
      await t.app.services.enrollment.resetByAdmin(userId, { ip: null, userAgent: "test" });
      expect(await secondFactorRows(t, userId)).toMatchObject({ credentials: 0, recoveryCodes: 0 });
      expect(await lockState(t, userId)).toMatchObject({ failed: 0, consecutive: 0, lockedUntil: null });
      expect((await login(t.app, name)).body).toHaveProperty("access_token");
    });

    it("resets the failure counter on a correct code", async () => {
      const name = uniqueName("reset");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const attacker = guesser(t, name);
      for (let i = 0; i < 9; i++) expectError(await attacker.guess(wrongCode(secret, t.clock, i)), 401, "invalid_otp");
      expect((await attacker.guess(totpCode(secret, t.clock))).status).toBe(200);
      expect(await lockState(t, userId)).toMatchObject({ failed: 0, consecutive: 0 });
      t.clock.advance(30);
      const next = guesser(t, name);
      for (let i = 0; i < 10; i++) expectError(await next.guess(wrongCode(secret, t.clock, i)), 401, "invalid_otp");
      expectError(await next.guess(totpCode(secret, t.clock)), 429, "rate_limited");
    });

    it("adds up failures across several login tokens into one account lock", async () => {
      const name = uniqueName("spread");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      let seed = 0;
      for (const count of [4, 3, 2, 1]) {
        const token = await loginToken(t.app, name);
        for (let i = 0; i < count; i++)
          expectError(
            await secondFactorLogin(t.app, { login_token: token, code: wrongCode(secret, t.clock, seed++) }),
            401,
            "invalid_otp",
          );
      }
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock) }),
        429,
        "rate_limited",
      );
    });
  });
}
