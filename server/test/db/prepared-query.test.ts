/*
 * db/prepared.ts: queries built and compiled once, run with new values (the login paths run a dozen per
 * request). Pins that values reach the database as parameters, constants stay, the compiled form
 * is reused inside transactions, and that a build which computes with a value fails loudly instead
 * of baking the first call's value into the SQL. Also pins that repeated 2FA attempts at later times
 * prepare no new SQLite statements: a time value inlined into the SQL text once made every
 * millisecond a new statement and flushed the statement cache.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/connect.js";
import { sqliteReader } from "../../src/db/sqlite/read-cache.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import { affectedRows, allColumns, preparedQuery } from "../../src/db/prepared.js";
import { enrolledUser, loginToken, totpCode } from "../support/accounts.js";
import { call } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

const auditColumns = {
  id: true,
  user_id: true,
  type: true,
  ip: true,
  user_agent: true,
  detail: true,
  created_at: true,
} as const;
const insertEvent = preparedQuery(
  (
    db,
    row: {
      id: string;
      user_id: string | null;
      type: string;
      ip: string | null;
      user_agent: string | null;
      detail: string | null;
      created_at: number;
    },
  ) => db.insertInto("audit_event").values(allColumns(row, auditColumns)),
);
const eventsOfType = preparedQuery((db, p: { type: string }) =>
  db.selectFrom("audit_event").select(["id", "ip", "created_at"]).where("type", "=", p.type).orderBy("id"),
);
const renameType = preparedQuery((db, p: { from: string; to: string }) =>
  db.updateTable("audit_event").set({ type: p.to, detail: "renamed" }).where("type", "=", p.from),
);

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
  });
}

describe("prepared queries inside a SQLite file's transaction (run straight on the held connection)", () => {
  let dir: string;
  let db: ReturnType<typeof createDb>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-prepared-"));
    db = createDb(`sqlite:${join(dir, "t.db")}`);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stay inside the transaction: unseen by the reader until commit, gone on rollback, writes reported", async () => {
    const reader = sqliteReader(db);
    if (reader === undefined) throw new Error("a SQLite file has a reader");
    const writes = vi.fn();
    reader.onWrite(writes);
    const readerSees = (id: string): unknown =>
      reader.connection.prepare("select id from audit_event where id = ?").get(id);
    const event = (id: string): Parameters<typeof insertEvent.execute>[1] => ({
      id,
      user_id: null,
      type: "held",
      ip: null,
      user_agent: null,
      detail: null,
      created_at: 1,
    });

    let outside: Promise<{ id: string }[]> | undefined;
    await db.transaction().execute(async (trx) => {
      await insertEvent.execute(trx, event("h1"));
      expect(writes).toHaveBeenCalled();
      expect((await eventsOfType.execute(trx, { type: "held" })).rows.map((row) => row.id)).toEqual(["h1"]);
      expect(readerSees("h1"), "an uncommitted write seen from outside the transaction").toBeUndefined();
      // A query outside the transaction waits for it instead of running inside it.
      outside = db.selectFrom("audit_event").select("id").where("type", "=", "held").execute();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(readerSees("h1")).toBeUndefined();
    });
    expect(readerSees("h1")).toEqual({ id: "h1" });
    expect((await outside)?.map((row) => row.id)).toEqual(["h1"]);

    await expect(
      db.transaction().execute(async (trx) => {
        await insertEvent.execute(trx, event("h2"));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(readerSees("h2")).toBeUndefined();
    expect((await eventsOfType.execute(db, { type: "held" })).rows.map((row) => row.id)).toEqual(["h1"]);
  });
});

describe("SQLite statements stay prepared across 2FA attempts", () => {
  let t: TestApp & { dropDatabase(): Promise<void> };
  beforeAll(async () => {
    const sqliteDialect = testDialects().find((dialect) => dialect.name === "sqlite");
    if (sqliteDialect === undefined) throw new Error("SQLite is always tested");
    t = await appOn(sqliteDialect);
  });
  afterAll(async () => {
    await t.close();
  });

  it("a wrong code and a right one, repeated milliseconds apart, prepare nothing new", async () => {
    const user = await enrolledUser(t.app, t.clock, "prepared-once");
    const attempt = async (): Promise<void> => {
      const token = await loginToken(t.app, "prepared-once");
      expect(
        (await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: token, code: "000000" } })).status,
      ).toBe(401);
      t.clock.advance(30);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/login", {
            body: { login_token: token, code: totpCode(user.secret, t.clock) },
          })
        ).status,
      ).toBe(200);
    };
    await attempt();
    const prepare = vi.spyOn(SQLite.prototype, "prepare");
    try {
      for (let i = 0; i < 3; i++) {
        t.clock.advance(0.001);
        await attempt();
      }
      expect(prepare.mock.calls.map(([text]) => text)).toEqual([]);
    } finally {
      prepare.mockRestore();
    }
  });
});
