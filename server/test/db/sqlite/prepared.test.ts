/*
 * db/prepared.ts on a SQLite file: inside a transaction a prepared query runs straight on the held
 * connection (db/sqlite/connect.ts) and must still stay inside that transaction. Also pins that
 * repeated two-factor attempts at later times prepare no new SQLite statements: a time value inlined
 * into the SQL text once made every millisecond a new statement and flushed the statement cache.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../../../src/db/connect.js";
import { sqliteReader } from "../../../src/db/sqlite/read-cache.js";
import { migrateToLatest } from "../../../src/db/migrator.js";
import { enrolledUser, loginToken, totpCode } from "../../support/accounts.js";
import { call } from "../../support/http.js";
import { appOn, type TestApp } from "../../support/app.js";
import { testDialects } from "../../support/dialects.js";
import { eventsOfType, insertEvent } from "../../support/database.js";

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

describe("SQLite statements stay prepared across two-factor attempts", () => {
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
