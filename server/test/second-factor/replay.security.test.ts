import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, loginToken, register, secondFactorLogin, totpCode, uniqueName } from "../support/accounts.js";
import { lockState } from "../support/database.js";
import { call, expectError, type Reply, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: replaying a one-time code. An attacker who sees a code (shoulder surfing, a phishing proxy,
 * a logged request) submits it again inside its 30-second validity, or races the victim by sending it
 * many times at once, hoping that read-then-write verification lets more than one request through.
 * Pins SPEC §2 "A code is accepted once … A recovery code is accepted once" and STYLE S9: single use is
 * a conditional UPDATE, so under parallel submission exactly one request wins, on every dialect.
 */

function successes(replies: Reply[]): number {
  return replies.filter((r) => r.status === 200).length;
}

for (const dialect of testDialects()) {
  describe(`one-time codes are accepted once [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("refuses a TOTP code reused within the same step", async () => {
      const name = uniqueName("replay");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const code = totpCode(secret, t.clock);
      expect((await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code })).status).toBe(200);
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code }),
        401,
        "otp_replayed",
      );
      // Still refused later inside the ±1 step window.
      t.clock.advance(30);
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code }),
        401,
        "otp_replayed",
      );
    });

    it("refuses the previous step's code once a newer code was used", async () => {
      const name = uniqueName("older");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock),
          })
        ).status,
      ).toBe(200);
      expectError(
        await secondFactorLogin(t.app, {
          login_token: await loginToken(t.app, name),
          code: totpCode(secret, t.clock, -1),
        }),
        401,
        "otp_replayed",
      );
    });

    it("refuses the code that confirmed the enrolment as a login code", async () => {
      const name = uniqueName("confirm");
      const { accessToken } = await register(t.app, name);
      const secret = str((await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).body["secret"]);
      const code = totpCode(secret, t.clock);
      expect(
        (await call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code } })).status,
      ).toBe(200);
      expectError(
        await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code }),
        401,
        "otp_replayed",
      );
    });

    it("refuses a code reused on /2fa/disable after it logged in", async () => {
      const name = uniqueName("reuse-disable");
      const { secret, accessToken } = await enrolledUser(t.app, t.clock, name);
      const code = totpCode(secret, t.clock);
      expect((await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code })).status).toBe(200);
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", {
          token: accessToken,
          body: { password: "correct horse battery staple", code },
        }),
        401,
        "otp_replayed",
      );
    });

    it("lets exactly one of 20 parallel submissions of one code on 20 login tokens through", async () => {
      const name = uniqueName("race-tokens");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const tokens: string[] = [];
      for (let i = 0; i < 20; i++) tokens.push(await loginToken(t.app, name));
      const code = totpCode(secret, t.clock);
      const replies = await Promise.all(tokens.map((login_token) => secondFactorLogin(t.app, { login_token, code })));
      expect(successes(replies), JSON.stringify(replies.map((r) => r.body))).toBe(1);
      for (const r of replies.filter((reply) => reply.status !== 200)) {
        expect([401, 429]).toContain(r.status);
        expect(r.body).not.toHaveProperty("access_token");
      }
    });

    it("lets exactly one of 20 parallel submissions on one login token through", async () => {
      const name = uniqueName("race-one");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const login_token = await loginToken(t.app, name);
      const code = totpCode(secret, t.clock);
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => secondFactorLogin(t.app, { login_token, code })),
      );
      expect(successes(replies), JSON.stringify(replies.map((r) => r.body))).toBe(1);
      // The winner consumed the login token: it cannot be used again, even with a fresh code.
      // (The burst may have locked the account; clear that so the answer is about the token.)
      await t.app.services.lockout.reset(userId);
      t.clock.advance(30);
      expectError(
        await secondFactorLogin(t.app, { login_token, code: totpCode(secret, t.clock) }),
        401,
        "login_token_expired",
      );
    });

    it("lets exactly one of 30 parallel uses of one recovery code through", async () => {
      const name = uniqueName("race-recovery");
      const { recoveryCodes } = await enrolledUser(t.app, t.clock, name);
      const tokens: string[] = [];
      for (let i = 0; i < 30; i++) tokens.push(await loginToken(t.app, name));
      const recovery_code = recoveryCodes[0] ?? "";
      const replies = await Promise.all(
        tokens.map((login_token) => secondFactorLogin(t.app, { login_token, recovery_code })),
      );
      expect(successes(replies), JSON.stringify(replies.map((r) => r.body))).toBe(1);
      const used = await t.db
        .selectFrom("recovery_code")
        .select("id")
        .where("used_at", "is not", null)
        .where(
          "user_id",
          "=",
          (await t.db.selectFrom("user").select("id").where("username", "=", name).executeTakeFirstOrThrow()).id,
        )
        .execute();
      expect(used).toHaveLength(1);
    });

    it("lets exactly one of 10 parallel enrolment confirmations through", async () => {
      const name = uniqueName("race-confirm");
      const { accessToken } = await register(t.app, name);
      const secret = str((await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken })).body["secret"]);
      const code = totpCode(secret, t.clock);
      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code } }),
        ),
      );
      const ok = replies.filter((r) => r.status === 200);
      expect(ok, JSON.stringify(replies.map((r) => r.body))).toHaveLength(1);
      for (const r of replies.filter((reply) => reply.status !== 200)) expect(r.status).toBeLessThan(500);
      const sets = await t.db
        .selectFrom("recovery_code")
        .select("id")
        .where(
          "user_id",
          "=",
          (await t.db.selectFrom("user").select("id").where("username", "=", name).executeTakeFirstOrThrow()).id,
        )
        .execute();
      expect(sets).toHaveLength(10);
    });

    it("counts replayed codes towards the lockout", async () => {
      const name = uniqueName("replay-lock");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const code = totpCode(secret, t.clock);
      expect((await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code })).status).toBe(200);
      for (let i = 0; i < 3; i++)
        expectError(
          await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code }),
          401,
          "otp_replayed",
        );
      expect((await lockState(t, userId)).failed).toBe(3);
    });
  });
}
