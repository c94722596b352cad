/*
 * Attack of circumstance: the database goes away under load (its backends killed by an operator, a
 * failover, a restart). Requests may answer 503 `unavailable` meanwhile, never 500, never hang past
 * 10 s, and the server recovers by itself (SPEC "Staying up").
 */
import { createConnection } from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { call, errorCode } from "../support/http.js";

/** Runs `statement` as the test's own administrator on the app's database server. */
async function asAdmin(name: "postgres" | "mysql", url: string, statements: (db: string) => string[]): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  if (name === "postgres") {
    const admin = new URL(url);
    admin.pathname = "/postgres";
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      for (const statement of statements(database)) await client.query(statement);
    } finally {
      await client.end();
    }
    return;
  }
  const connection = await createConnection(url);
  try {
    for (const statement of statements(database)) {
      if (statement !== "kill-all") {
        await connection.query(statement);
        continue;
      }
      const [rows] = await connection.query(
        "select id from information_schema.processlist where db = ? and id <> connection_id()",
        [database],
      );
      for (const row of rows as { id: number }[])
        await connection.query(`kill ${Number(row.id)}`).catch(() => undefined);
    }
  } finally {
    await connection.end();
  }
}

const killAll = (name: "postgres" | "mysql") => (database: string) =>
  name === "postgres"
    ? [
        "select pg_terminate_backend(pid) from pg_stat_activity" +
          ` where datname = '${database}' and pid <> pg_backend_pid()`,
      ]
    : ["kill-all"];

for (const dialect of testDialects()) {
  if (dialect.name === "sqlite") continue; // a file: nothing to disconnect
  const name = dialect.name;
  describe(`the database connections killed mid-load [${name}]`, () => {
    let t: TestApp;
    const lines: string[] = [];
    beforeAll(async () => {
      t = await appOn(dialect, { logger: { level: "info", stream: { write: (line) => void lines.push(line) } } });
    });
    afterAll(async () => t.close());

    it("connections killed mid-load: 200 or 503 unavailable, never 500 or past 10 s, then recovery", async () => {
      const { accessToken } = await register(t.app, "underload");
      const seen: { status: number; code: string | undefined; ms: number }[] = [];
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop) {
          const started = Date.now();
          const res =
            seen.length % 3 === 0
              ? await call(t.app, "POST", "/api/auth/login", {
                  body: { username: "underload", password: "correct horse battery staple" },
                })
              : await call(t.app, "GET", "/api/user/me", { token: accessToken });
          seen.push({ status: res.status, code: errorCode(res.body), ms: Date.now() - started });
        }
      };
      const workers = Array.from({ length: 6 }, () => worker());
      for (let round = 0; round < 3; round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await asAdmin(name, t.databaseUrl, killAll(name));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      await Promise.all(workers);
      expect(seen.length).toBeGreaterThan(20);
      const unexpected = seen.filter((s) => !(s.status === 200 || (s.status === 503 && s.code === "unavailable")));
      expect(unexpected).toEqual([]);
      expect(Math.max(...seen.map((s) => s.ms))).toBeLessThan(10_000);
      // Recovered: the next requests are served as before.
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
      expect((await call(t.app, "GET", "/readyz")).status).toBe(200);
      // Each pooled connection killed is logged and counted, whether it was idle or lent out (the log is
      // read first: a connection may still report its end in between).
      const logged = lines.filter((line) => line.includes("database connection failed")).length;
      const metrics = (await call(t.app, "GET", "/metrics")).text;
      expect(logged).toBeGreaterThanOrEqual(3);
      expect(Number(/^tessera_db_pool_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(logged);
    });

    if (name === "postgres")
      it("answers 503 unavailable and /readyz 503 while the database refuses connections, then recovers", async () => {
        const { accessToken } = await register(t.app, "outage");
        await asAdmin(name, t.databaseUrl, (database) => [
          `alter database ${database} with allow_connections false`,
          ...killAll(name)(database),
        ]);
        try {
          const started = Date.now();
          const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
          expect(me.status).toBe(503);
          expect(errorCode(me.body)).toBe("unavailable");
          expect(Date.now() - started).toBeLessThan(10_000);
          expect((await call(t.app, "GET", "/readyz")).status).toBe(503);
        } finally {
          await asAdmin(name, t.databaseUrl, (database) => [`alter database ${database} with allow_connections true`]);
        }
        expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
        expect((await call(t.app, "GET", "/readyz")).status).toBe(200);
      });
  });
}
