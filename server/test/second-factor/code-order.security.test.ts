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
    /** Runs on every statement the app sends, after the counter (a test sets it to act at a given one). */
    let onStatement: ((sql: string) => void) | null = null;
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, {
        onStatement: (sql) => {
          counter.onStatement(sql);
          onStatement?.(sql);
        },
      });
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

    it("replay attack across a step boundary: a used code is refused as a replay, and audited so", async () => {
      const name = uniqueName("boundary-replay");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const userId = await userIdOf(t, name);
      const code = totpCode(secret, t.clock);
      const first = await secondFactorLogin(t.app, { login_token: await loginToken(t.app, name), code });
      expect(first.status).toBe(200);
      // The replay: its step is refused where the statements go out together, and the step is used once
      // more as the general step uses it. Before that, the clock passes two 30-s boundaries, after which
      // the code would match no step at all if it were looked at again.
      const token = await loginToken(t.app, name);
      onStatement = (sql) => {
        if (!/^rollback to savepoint/i.test(sql)) return;
        onStatement = null;
        t.clock.advance(60);
      };
      const replay = await secondFactorLogin(t.app, { login_token: token, code });
      onStatement = null;
      expect((replay.body as { error?: { code?: string } }).error?.code).toBe("otp_replayed");
      const failures = await t.db
        .selectFrom("audit_event")
        .select("detail")
        .where("user_id", "=", userId)
        .where("type", "=", "mfa_failed")
        .execute();
      expect(failures.map((row) => JSON.parse(String(row.detail)) as unknown)).toEqual([
        { method: "totp", reason: "replayed" },
      ]);
    });
  });
}
