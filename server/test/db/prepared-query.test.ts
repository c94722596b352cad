/*
 * db/prepared.ts: queries built and compiled once, run with new values (the login paths run a dozen per
 * request). Pins that values reach the database as parameters, constants stay, the compiled form
 * is reused inside transactions, and that a build which computes with a value fails loudly instead
 * of baking the first call's value into the SQL (SQLite's own paths: db/sqlite/prepared.test.ts).
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import { affectedRows, preparedQuery, preparedStatementName } from "../../src/db/prepared.js";
import { testDialects } from "../support/dialects.js";
import { eventsOfType, insertEvent, renameType } from "../support/database.js";

for (const dialect of testDialects()) {
  describe(`prepared queries on ${dialect.name}`, () => {
    let database: Awaited<ReturnType<typeof dialect.createDatabase>>;
    let db: ReturnType<typeof createDb>;
    beforeAll(async () => {
      database = await dialect.createDatabase();
      db = createDb(database.url);
      await migrateToLatest(db);
    });
    afterAll(async () => {
      await db.destroy();
      await database.drop();
    });

    it("binds each call's values and keeps the constants it was built with", async () => {
      await insertEvent.execute(db, {
        id: "e1",
        user_id: null,
        type: "register",
        ip: "192.0.2.1",
        user_agent: null,
        detail: null,
        created_at: 1,
      });
      await insertEvent.execute(db, {
        id: "e2",
        user_id: null,
        type: "register",
        ip: null,
        user_agent: "ua",
        detail: null,
        created_at: 2,
      });
      await insertEvent.execute(db, {
        id: "e3",
        user_id: null,
        type: "logout",
        ip: "192.0.2.3",
        user_agent: null,
        detail: null,
        created_at: 3,
      });
      expect((await eventsOfType.execute(db, { type: "register" })).rows).toEqual([
        { id: "e1", ip: "192.0.2.1", created_at: 1 },
        { id: "e2", ip: null, created_at: 2 },
      ]);
      expect((await eventsOfType.execute(db, { type: "logout" })).rows).toEqual([
        { id: "e3", ip: "192.0.2.3", created_at: 3 },
      ]);
      expect(affectedRows(await renameType.execute(db, { from: "logout", to: "session_revoked" }))).toBe(1n);
      expect(affectedRows(await renameType.execute(db, { from: "logout", to: "session_revoked" }))).toBe(0n);
      const renamed = await db
        .selectFrom("audit_event")
        .select(["type", "detail"])
        .where("id", "=", "e3")
        .executeTakeFirstOrThrow();
      expect(renamed).toEqual({ type: "session_revoked", detail: "renamed" });
    });

    it("runs inside a transaction, and a rolled-back write is gone", async () => {
      await db.transaction().execute(async (trx) => {
        await insertEvent.execute(trx, {
          id: "t1",
          user_id: null,
          type: "in_tx",
          ip: null,
          user_agent: null,
          detail: null,
          created_at: 10,
        });
        expect((await eventsOfType.execute(trx, { type: "in_tx" })).rows).toHaveLength(1);
      });
      await expect(
        db.transaction().execute(async (trx) => {
          await insertEvent.execute(trx, {
            id: "t2",
            user_id: null,
            type: "in_tx",
            ip: null,
            user_agent: null,
            detail: null,
            created_at: 11,
          });
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      expect((await eventsOfType.execute(db, { type: "in_tx" })).rows.map((row) => row.id)).toEqual(["t1"]);
    });

    it("refuses a build that computes with a value instead of placing it", async () => {
      const computed = preparedQuery((qb, p: { now: number }) =>
        qb
          .selectFrom("audit_event")
          .select("id")
          .where("created_at", ">", p.now - 1000),
      );
      await expect(computed.execute(db, { now: 5000 })).rejects.toThrow(/"now" was used in the query's construction/);
      // Placed once and computed with elsewhere: the computation throws, not a NaN baked into the SQL.
      const placedAndComputed = preparedQuery((qb, p: { now: number }) =>
        qb
          .selectFrom("audit_event")
          .select("id")
          .where("created_at", "<", p.now)
          .where("created_at", ">", p.now - 1000),
      );
      await expect(placedAndComputed.execute(db, { now: 5000 })).rejects.toThrow(
        /"now" was used in the query's construction/,
      );
      const concatenated = preparedQuery((qb, p: { type: string }) =>
        qb.selectFrom("audit_event").select("id").where("type", "=", `${p.type}_x`),
      );
      await expect(concatenated.execute(db, { type: "register" })).rejects.toThrow(/"type"/);
    });

    // Only PostgreSQL has named statements; the other dialects register no such test (none shows as skipped).
    if (dialect.name === "postgres")
      it("reaches PostgreSQL as a named statement, prepared once per connection", async () => {
        await db.connection().execute(async (connection) => {
          for (const type of ["a", "b", "c"]) await eventsOfType.execute(connection, { type });
          const named = await sql<{ name: string; statement: string }>`
          select name, statement from pg_prepared_statements`.execute(connection);
          const ours = named.rows.filter((row) => row.name.startsWith("tessera_"));
          // Sent three times, prepared once: a second Parse of one name would have failed the query.
          expect(ours.some((row) => row.statement.includes('"audit_event"'))).toBe(true);
          for (const row of ours) expect(preparedStatementName(row.statement)).toBe(row.name);
        });
      });
  });
}
