import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, register, strongPassword, totpCode, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { send, str } from "../support/http.js";
import { statementCounter } from "../support/statements.js";

/*
 * Statements per request on the login paths, on every dialect (SPEC §5, issue 19): each one is a round
 * trip to PostgreSQL or MySQL, so their number bounds a login's rate there. The ceilings are today's
 * counts; a change that adds a statement to these paths fails here and must say why.
 */

const browser = { "user-agent": "Mozilla/5.0 (statements test)" };

/**
 * The most statements each request may send, per dialect. SQLite counts its group commit's savepoint
 * and release beside BEGIN and COMMIT (db/sqlite/group-commit.ts); all of them run in-process there.
 * Before issue 19: `/2fa/login` 18 (SQLite) / 16 (PostgreSQL, MySQL), password login 15 / 13. A TOTP
 * code takes login/code-at-once.ts, one statement more than the general step (a savepoint before the
 * UPDATEs sent together), but on PostgreSQL most statements are sent ahead (db/pipeline.ts): the
 * `/2fa/login` below is four round trips there (the read; BEGIN with the two counting UPDATEs; the
 * savepoint with the session lookup for the "new sign-in" notice and the step, token and user
 * UPDATEs; the four INSERTs with COMMIT), twelve before.
 */
const ceilings = {
  sqlite: { step1: 5, step2: 15, password: 12 },
  postgres: { step1: 5, step2: 11, password: 8 },
  mysql: { step1: 5, step2: 12, password: 9 },
};

/** The signing keys' reload, in every dialect's quoting. */
const keyReload = /^select \* from [`"]signing_key[`"]/;

/** Each count, or the ceiling where the count is above it (so toEqual names the path that grew). */
function pickAtMost<K extends string>(counts: Record<K, number>, most: Record<K, number>): Record<K, number> {
  return Object.fromEntries(
    Object.entries<number>(counts).map(([path, count]) => [path, Math.min(count, most[path as K])]),
  ) as Record<K, number>;
}

for (const dialect of testDialects()) {
  describe(`statements per login request [${dialect.name}]`, () => {
    const counter = statementCounter();
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { onStatement: (sql) => counter.onStatement(sql) });
    });
    afterAll(async () => t.close());

    const post = (url: string, body: object, cookies: Record<string, string> = {}) =>
      send(t.app, { method: "POST", url, body, headers: browser, cookies });

    it("counts a password login, its two-factor step, and a password login without two-factor", async () => {
      const name = uniqueName("stmts");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      // Signed in once from this browser before: the common case, no "new sign-in" notice.
      await post("/api/auth/2fa/login", {
        login_token: str(
          (await post("/api/auth/login", { username: name, password: strongPassword })).body["login_token"],
        ),
        code: totpCode(secret, t.clock),
      });
      t.clock.advance(30);
      const plain = uniqueName("stmts-plain");
      await register(t.app, plain);
      await post("/api/auth/login", { username: plain, password: strongPassword });

      let token = "";
      const step1 = await counter.during(async () => {
        const res = await post("/api/auth/login", { username: name, password: strongPassword });
        token = str(res.body["login_token"]);
      });
      const step2 = await counter.during(async () => {
        const res = await post("/api/auth/2fa/login", { login_token: token, code: totpCode(secret, t.clock) });
        expect(res.status, res.text).toBe(200);
      });
      const password = await counter.during(async () => {
        const res = await post("/api/auth/login", { username: plain, password: strongPassword });
        expect(res.status, res.text).toBe(200);
      });
      // The signing keys are read again once the copy in memory is a second old (modules/token/key-store.ts):
      // a timer's work that lands in whichever request comes next on a slow machine, not a statement of its own.
      const perRequest = (statements: string[]) => statements.filter((sql) => !keyReload.test(sql));
      const counts = {
        step1: perRequest(step1).length,
        step2: perRequest(step2).length,
        password: perRequest(password).length,
      };
      // Reported with the test run (issue 19 asks for the figures); the SQL shows what a new statement is.
      console.log(`statements per request [${dialect.name}]`, counts, `\n/2fa/login:\n  ${step2.join("\n  ")}`);
      expect(counts).toEqual({ ...counts, ...pickAtMost(counts, ceilings[dialect.name]) });
    });
  });
}
