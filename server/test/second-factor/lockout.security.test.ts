import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  fullLogin,
  login,
  loginToken,
  secondFactorLogin,
  strongPassword,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { lockState, secondFactorRows } from "../support/database.js";
import { call, expectError, type Reply } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: brute-forcing the six-digit code. One code in 10^6 (three in 10^6 with the ±1 step window)
 * falls to an attacker who can guess fast enough, spread over fresh login tokens, over several
 * routes that accept a code, or in parallel. Pins SPEC §2 "allows at most 5 wrong codes", "While the
 * account's second factor is locked out … /2fa/login answers 429 rate_limited", "Every rejected code
 * (wrong, replayed, expired challenge) counts towards the lockout", and SPEC §3 "a lockout with
 * backoff … never more than 100 consecutive failures" (NIST SP 800-63B §5.2.2).
 */

const oneYearInSeconds = 60 * 60 * 24 * 365;

/** An attacker that only ever uses a login token five times, so the account lock alone stops it. */
function guesser(t: TestApp, username: string): { guess(code: string): Promise<Reply> } {
  let token: string | null = null;
  let uses = 0;
  let issuedAt = 0;
  return {
    async guess(code) {
      if (token === null || uses >= 5 || t.clock.now() - issuedAt > 60_000) {
        token = await loginToken(t.app, username);
        uses = 0;
        issuedAt = t.clock.now();
      }
      uses += 1;
      return secondFactorLogin(t.app, { login_token: token, code });
    },
  };
}

function retryAfter(res: Reply): number {
  const header = res.headers["retry-after"];
  expect(header, "429 carries Retry-After").toBeDefined();
  return Number(header);
}

for (const dialect of testDialects()) {
  describe(`second-factor lockout [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("refuses the 11th code, even the correct one, with 429 rate_limited and Retry-After after 10 wrong codes", async () => {
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
      expect((await lockState(t, await idOf(t, name))).lockedUntil).not.toBeNull();
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
      expect(await lockState(t, await idOf(t, name))).toMatchObject({
        failed: 0,
        consecutive: 0,
        lockedUntil: null,
        lockouts: 0,
      });
    });

    it("locks the second factor for good after 100 consecutive failures, until an administrator resets the lock", async () => {
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
        if (state.lockedUntil !== null && state.lockedUntil > t.clock.now() + oneYearInSeconds * 1000) break; // locked for good
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

    it("lifts a permanent lock by an administrator's 2FA reset, which turns 2FA off", async () => {
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

    it("counts wrong codes on /2fa/disable and /2fa/recovery-codes towards the same lock, and refuses them while locked", async () => {
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

async function idOf(t: TestApp, username: string): Promise<string> {
  return (await t.db.selectFrom("user").select("id").where("username", "=", username).executeTakeFirstOrThrow()).id;
}
