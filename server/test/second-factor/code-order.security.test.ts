/*
 * Attacks on the order of a TOTP second step (login/code-at-once.ts sends its statements together):
 * the attempt must be counted before the code is read, whatever the code. An attacker who holds the
 * password must learn nothing about a code the server refuses without counting: not from the reply,
 * and not from what the server does (the statements it runs, hence its timing).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enrolledUser,
  guesser,
  loginToken,
  secondFactorLogin,
  totpCode,
  uniqueName,
  wrongCode,
} from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { lockState, userIdOf } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { statementCounter } from "../support/statements.js";

for (const dialect of testDialects()) {
  describe(`the order of a TOTP second step [${dialect.name}]`, () => {
    const counter = statementCounter();
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { onStatement: (sql) => counter.onStatement(sql) });
    });
    afterAll(async () => t.close());

    /** Attempts taken over all of the user's login tokens. */
    const tokenAttempts = async (userId: string) =>
      (await t.db.selectFrom("login_challenge").select("failed_attempts").where("user_id", "=", userId).execute())
        .map((row) => Number(row.failed_attempts))
        .reduce((sum, attempts) => sum + attempts, 0);

    it("oracle attack while locked out: a right code is refused as a wrong one, costing the token none", async () => {
      const name = uniqueName("locked-oracle");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const userId = await userIdOf(t, name);
      const attacker = guesser(t, name);
      for (let i = 0; i < 11; i += 1) await attacker.guess(wrongCode(secret, t.clock, i));
      expect((await lockState(t, userId)).lockedUntil).not.toBeNull();

      const token = await loginToken(t.app, name);
      const attemptsBefore = await tokenAttempts(userId);
      const replies: { status: number; body: unknown }[] = [];
      const statements: string[][] = [];
      for (const code of [totpCode(secret, t.clock), wrongCode(secret, t.clock, 50)]) {
        statements.push(
          await counter.during(async () => {
            const res = await secondFactorLogin(t.app, { login_token: token, code });
            replies.push({ status: res.status, body: res.body });
          }),
        );
      }
      const [right, wrong] = replies;
      expect(right?.status).toBe(429);
      expect(right).toEqual(wrong);
      // The same work for both: the code was never read.
      expect(statements[0]).toEqual(statements[1]);
      expect(statements[0]?.some((sql) => /update\s+["`]totp_credential/i.test(sql))).toBe(false);
      // A refusal of the lockout takes none of the token's attempts.
      expect(await tokenAttempts(userId)).toBe(attemptsBefore);
    });

    it("parallel attack on one token: at most its five attempts are counted, at most one request logs in", async () => {
      const name = uniqueName("token-burst");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const userId = await userIdOf(t, name);
      const token = await loginToken(t.app, name);
      // The user's only token: its attempts are the user's.
      expect(await tokenAttempts(userId)).toBe(0);
      const right = totpCode(secret, t.clock);
      const codes = Array.from({ length: 16 }, (_, i) => (i === 11 ? right : wrongCode(secret, t.clock, 100 + i)));
      const replies = await Promise.all(codes.map((code) => secondFactorLogin(t.app, { login_token: token, code })));
      const statuses = replies.map((res) => res.status);
      expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(1);
      const attempts = await tokenAttempts(userId);
      expect(attempts).toBeLessThanOrEqual(5);
      // The account counted what the token counted, no more: the rest were refused before being read.
      const lock = await lockState(t, userId);
      const succeeded = statuses.includes(200);
      expect(lock.consecutive).toBe(succeeded ? 0 : attempts);
      const refusedUnread = replies.filter(
        (res) => (res.body as { error?: { code?: string } }).error?.code === "login_token_expired",
      ).length;
      expect(refusedUnread).toBe(16 - attempts);
    });
  });
}
