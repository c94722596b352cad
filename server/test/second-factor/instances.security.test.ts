import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  loginToken,
  register,
  secondFactorLogin,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { call, expectError, type Reply, send, str } from "../support/http.js";
import { appOn, buildTestApp, useTwoInstances, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: playing instances against each other. Behind a load balancer an attacker sends a code
 * already used on one instance to another, spreads guesses over instances so each sees only a few,
 * or spreads requests so no instance's in-memory rate limit fills. Pins SPEC §2 "the same code …
 * is refused the second time, also on another instance" and §3 "all of it shared through Redis when
 * REDIS_URL is set": replay state and lockouts live in the shared database, per-IP limits in Redis.
 * Run on every dialect (SQLite as one file opened by both instances), both apps on one fixed clock.
 */

const redisUrl = process.env["TEST_REDIS_URL"];

for (const dialect of testDialects()) {
  describe(`two instances on one ${dialect.name} database`, () => {
    let a: TestApp;
    let b: TestApp;
    useTwoInstances(dialect, (first, second) => {
      a = first;
      b = second;
    });

    it("refuses on instance B a code already used on instance A", async () => {
      const name = uniqueName("replay");
      const { secret } = await enrolledUser(a.app, a.clock, name);
      const code = totpCode(secret, a.clock);
      expect((await secondFactorLogin(a.app, { login_token: await loginToken(a.app, name), code })).status).toBe(200);
      expectError(
        await secondFactorLogin(b.app, { login_token: await loginToken(b.app, name), code }),
        401,
        "otp_replayed",
      );
    });

    it("refuses on instance B the code that confirmed the enrolment on instance A", async () => {
      const name = uniqueName("confirm");
      const { accessToken } = await register(a.app, name);
      const secret = str((await call(a.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).body["secret"]);
      const code = totpCode(secret, a.clock);
      expect(
        (await call(a.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code } })).status,
      ).toBe(200);
      expectError(
        await secondFactorLogin(b.app, { login_token: await loginToken(b.app, name), code }),
        401,
        "otp_replayed",
      );
    });

    it("refuses on instance B a recovery code already used on instance A", async () => {
      const name = uniqueName("recovery");
      const { recoveryCodes } = await enrolledUser(a.app, a.clock, name);
      const recovery_code = recoveryCodes[0] ?? "";
      expect(
        (await secondFactorLogin(a.app, { login_token: await loginToken(a.app, name), recovery_code })).status,
      ).toBe(200);
      expectError(
        await secondFactorLogin(b.app, { login_token: await loginToken(b.app, name), recovery_code }),
        401,
        "invalid_otp",
      );
    });

    it("finishes on instance B a login started on A, and each accepts the other's access token", async () => {
      const name = uniqueName("handover");
      const { secret } = await enrolledUser(a.app, a.clock, name);
      const res = await secondFactorLogin(b.app, {
        login_token: await loginToken(a.app, name),
        code: totpCode(secret, a.clock),
      });
      expect(res.status).toBe(200);
      const token = str(res.body["access_token"]);
      expect((await call(a.app, "GET", "/api/user/me", { token })).status).toBe(200);
      expect((await call(b.app, "GET", "/api/user/me", { token })).status).toBe(200);
    });

    it("adds up wrong codes on instances A and B into one lock", async () => {
      const name = uniqueName("lock");
      const { secret } = await enrolledUser(a.app, a.clock, name);
      for (const [instance, seed] of [
        [a, 0],
        [b, 5],
      ] as const) {
        const token = await loginToken(instance.app, name);
        for (let i = 0; i < 5; i++)
          expectError(
            await secondFactorLogin(instance.app, { login_token: token, code: wrongCode(secret, a.clock, seed + i) }),
            401,
            "invalid_otp",
          );
      }
      for (const instance of [a, b]) {
        const res = await secondFactorLogin(instance.app, {
          login_token: await loginToken(instance.app, name),
          code: totpCode(secret, a.clock),
        });
        expectError(res, 429, "rate_limited");
        expect(res.headers["retry-after"]).toBeDefined();
      }
    });

    it("lets exactly one of 10 parallel submissions of one code on each instance through", async () => {
      const name = uniqueName("race");
      const { secret } = await enrolledUser(a.app, a.clock, name);
      const code = totpCode(secret, a.clock);
      const pending: Promise<Reply>[] = [];
      for (let i = 0; i < 10; i++) {
        for (const instance of [a, b])
          pending.push(
            loginToken(instance.app, name).then((login_token) =>
              secondFactorLogin(instance.app, { login_token, code }),
            ),
          );
      }
      const replies = await Promise.all(pending);
      expect(
        replies.filter((r) => r.status === 200),
        JSON.stringify(replies.map((r) => r.body)),
      ).toHaveLength(1);
      expect(replies.every((r) => r.status < 500)).toBe(true);
    });
  });

  describe.skipIf(redisUrl === undefined)(
    `two instances sharing per-IP rate limits through Redis [${dialect.name}]`,
    () => {
      let a: TestApp;
      let b: TestApp;
      beforeAll(async () => {
        const env = { RATE_LIMIT: "on" };
        a = await appOn(dialect, { env, groupCommit: false, ...(redisUrl === undefined ? {} : { redisUrl }) });
        b = await buildTestApp({
          databaseUrl: a.databaseUrl,
          secretKey: a.secretKey,
          clock: a.clock,
          env,
          groupCommit: false,
          ...(redisUrl === undefined ? {} : { redisUrl }),
        });
      });
      afterAll(async () => {
        await b.close();
        await a.close();
      });

      // The Redis server may be shared with other runs: a random address per run keeps counters apart,
      // so nothing needs flushing.
      const randomAddress = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
      const attempt = (app: TestApp, remoteAddress: string): Promise<Reply> =>
        send(app.app, {
          method: "POST",
          url: "/api/auth/2fa/login",
          remoteAddress,
          payload: { login_token: "not-a-login-token", code: "123456" },
        });

      it("answers /2fa/login 429 once A and B together took 30 requests from one address in a minute", async () => {
        const address = randomAddress();
        for (let i = 0; i < 30; i++) {
          const res = await attempt(i % 2 === 0 ? a : b, address);
          expectError(res, 401, "login_token_expired");
        }
        for (const instance of [a, b]) {
          const res = await attempt(instance, address);
          expectError(res, 429, "rate_limited");
          expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
        }
        // Another address is not affected.
        expectError(await attempt(b, randomAddress()), 401, "login_token_expired");
      });
    },
  );
}
