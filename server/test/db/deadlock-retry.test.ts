/*
 * Attack of circumstance: two transactions take the same rows in opposite order and the database
 * kills one as a deadlock victim. The victim must be the server's two-factor login, and it must be
 * run again and answer normally (SPEC "Staying up"), not 500.
 */
import { createConnection } from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable, isRetryableConflict, retryingConflicts } from "../../src/db/outage.js";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, loginToken, secondFactorLogin, totpCode } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { send } from "../support/http.js";
import { eventually } from "../support/server-process.js";

describe("database conflicts and outages, told apart", () => {
  it("retries a deadlock victim with jitter, at most four tries, and nothing else", async () => {
    const deadlock = Object.assign(new Error("deadlock detected"), { code: "40P01" });
    let tries = 0;
    const retried: unknown[] = [];
    const value = await retryingConflicts(
      async () => {
        tries += 1;
        if (tries < 3) throw deadlock;
        return "done";
      },
      (error) => retried.push(error),
    );
    expect(value).toBe("done");
    expect(retried).toEqual([deadlock, deadlock]);
    tries = 0;
    await expect(
      retryingConflicts(async () => {
        tries += 1;
        throw Object.assign(new Error("Deadlock found"), { code: "ER_LOCK_DEADLOCK", errno: 1213 });
      }),
    ).rejects.toThrow("Deadlock found");
    expect(tries).toBe(4);
    tries = 0;
    await expect(
      retryingConflicts(async () => {
        tries += 1;
        throw Object.assign(new Error("duplicate"), { code: "23505" });
      }),
    ).rejects.toThrow("duplicate");
    expect(tries).toBe(1);
  });

  it("knows the serialization and lock-wait codes, and the unreachable database's errors", () => {
    for (const code of ["40001", "40P01", "ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"])
      expect(isRetryableConflict({ code })).toBe(true);
    expect(isRetryableConflict({ code: "23505" })).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("terminating connection"), { code: "57P01" }))).toBe(true);
    expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(
      isDatabaseUnavailable(Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST", fatal: true })),
    ).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })]))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(Object.assign(new Error("syntax"), { code: "42601" }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("undefined is not a function"))).toBe(false);
  });
});

/** A connection of the test's own, holding locks in a transaction the test steers. */
interface Locker {
  run(sqlText: string, parameters?: unknown[]): Promise<void>;
  /** How many of the app's statements wait for a lock in this database. */
  waiting(): Promise<number>;
  /** Deadlocks the server has detected (PostgreSQL: in this database; MySQL: on the server). */
  deadlocks(): Promise<number>;
  close(): Promise<void>;
}

async function lockerFor(dialect: "postgres" | "mysql", url: string): Promise<Locker> {
  if (dialect === "postgres") {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const database = new URL(url).pathname.slice(1);
    return {
      run: async (sqlText, parameters = []) => void (await client.query(sqlText.replaceAll("`", '"'), parameters)),
      async waiting() {
        const result = await client.query(
          "select count(*)::int as n from pg_stat_activity" +
            " where datname = $1 and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
          [database],
        );
        return Number(result.rows[0]?.n ?? 0);
      },
      async deadlocks() {
        const result = await client.query("select deadlocks::int as n from pg_stat_database where datname = $1", [
          database,
        ]);
        return Number(result.rows[0]?.n ?? 0);
      },
      close: () => client.end(),
    };
  }
  const connection = await createConnection(url);
  const database = new URL(url).pathname.slice(1);
  return {
    run: async (sqlText, parameters = []) => void (await connection.query(sqlText.replace(/\$\d+/g, "?"), parameters)),
    async waiting() {
      // MariaDB leaves a transaction waiting for a row lock out of information_schema.innodb_trx at times
      // (seconds on end), so the waiter is the app's statement still running after 200 ms: one that needs
      // no lock takes a millisecond. TIME_MS is MariaDB's; MySQL 8 has performance_schema.data_lock_waits.
      const [rows] = await connection.query(
        "select count(*) as n from information_schema.processlist" +
          " where db = ? and id <> connection_id() and command = 'Query' and time_ms > 200" +
          " and info like 'update `login_challenge`%'",
        [database],
      );
      return Number((rows as { n: number }[])[0]?.n ?? 0);
    },
    async deadlocks() {
      const [rows] = await connection.query(
        "select count as n from information_schema.innodb_metrics where name = 'lock_deadlocks'",
      );
      return Number((rows as { n: number }[])[0]?.n ?? 0);
    },
    close: () => connection.end(),
  };
}

for (const dialect of testDialects()) {
  if (dialect.name === "sqlite") continue; // one writer at a time: SQLite cannot deadlock
  const name = dialect.name;
  describe(`a deadlock in the two-factor login [${name}]`, () => {
    let t: TestApp;
    const lines: string[] = [];
    beforeAll(async () => {
      t = await appOn(dialect, { logger: { level: "info", stream: { write: (line) => void lines.push(line) } } });
    });
    afterAll(async () => t.close());

    it("the login chosen as deadlock victim is run again and answers 200", async () => {
      const { userId, secret } = await enrolledUser(t.app, t.clock, "deadlocked");
      const token = await loginToken(t.app, "deadlocked");
      const challenge = await t.db
        .selectFrom("login_challenge")
        .select("id")
        .where("user_id", "=", userId)
        .executeTakeFirstOrThrow();
      const locker = await lockerFor(name, t.databaseUrl);
      const deadlocksBefore = await locker.deadlocks();
      try {
        await locker.run("begin");
        if (name === "postgres") {
          // The login's backend detects the deadlock first (1 s), so it is the victim.
          await locker.run("set local deadlock_timeout = '20s'");
        } else {
          // InnoDB picks the transaction that changed fewer rows as its victim: make this one heavier.
          for (let i = 0; i < 40; i += 1)
            await locker.run(
              "insert into audit_event (id, user_id, type, ip, user_agent, detail, created_at)" +
                " values ($1, null, 'x', null, null, null, 0)",
              [`deadlock-${i}`],
            );
        }
        // Opposite order to the login: its challenge first, its user row second.
        await locker.run("update login_challenge set failed_attempts = failed_attempts where id = $1", [challenge.id]);
        const reply = secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) });
        // Generous: on a loaded machine the login may take seconds to reach its first lock.
        await eventually(async () => ((await locker.waiting()) > 0 ? true : undefined), 30_000, "the login to wait");
        await locker.run("update `user` set locked = locked where id = $1", [userId]);
        await locker.run("rollback");
        const res = await reply;
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(typeof res.body["access_token"]).toBe("string");
        // Run again once, after the database's own deadlock error (PostgreSQL 40P01, MySQL 1213), logged and counted.
        const retries = lines.filter((line) => line.includes("running it again"));
        expect(retries).toHaveLength(1);
        expect(JSON.parse(retries[0] ?? "{}")).toMatchObject({
          code: name === "postgres" ? "40P01" : "ER_LOCK_DEADLOCK",
        });
        expect((await send(t.app, { method: "GET", url: "/metrics" })).text).toMatch(
          /^tessera_db_conflict_retries_total 1$/m,
        );
        // PostgreSQL's statistics reach pg_stat_database a moment later.
        await eventually(
          async () => ((await locker.deadlocks()) > deadlocksBefore ? true : undefined),
          5_000,
          "the deadlock to be counted",
        );
      } finally {
        await locker.close();
      }
    }, 60_000);
  });
}
