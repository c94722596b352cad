/*
 * db/sqlite/group-commit.ts: transactions on the one SQLite connection that end while others wait share a
 * COMMIT. Pins what must not change for them: a transaction's `execute` (or a controlled one's
 * `commit()`) resolves only once its writes are committed (another connection sees them), a
 * rollback undoes its own writes only, a group is bounded, and when the group's COMMIT fails or
 * SQLite aborts the group, every member fails and none of its writes stays; another writer on the
 * same file (another thread here, as another process would be) waits its turn and loses nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import SQLite from "better-sqlite3";
import { Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCommitSqliteDialect, maxGroupMs, maxGroupSize } from "../../../src/db/sqlite/group-commit.js";

interface Tables {
  item: { id: number; label: string };
  parent: { id: number };
  child: { id: number; parent_id: number };
}

describe("SQLite group commit", () => {
  let dir: string;
  let sqlite: SQLite.Database;
  let other: SQLite.Database;
  let db: Kysely<Tables>;
  /** Transaction-control statements the driver ran, in order. */
  let control: string[];
  /**
   * The driver's clock (ms): it moves only when a test moves it, so how long a loaded machine takes
   * between two statements never ends a group early (the `maxGroupMs` bound has a test of its own).
   */
  let elapsedMs: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-group-commit-"));
    const path = join(dir, "test.db");
    sqlite = new SQLite(path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.exec("create table item (id integer primary key, label text not null)");
    sqlite.exec("create table parent (id integer primary key)");
    sqlite.exec(
      "create table child (id integer primary key, " +
        "parent_id integer not null references parent (id) deferrable initially deferred)",
    );
    sqlite.pragma("foreign_keys = on");
    control = [];
    elapsedMs = 0;
    const database = {
      close: () => sqlite.close(),
      prepare: (sqlText: string) => {
        if (/^(begin|commit|rollback|savepoint|release)\b/i.test(sqlText)) control.push(sqlText.split(" ")[0] ?? "");
        return sqlite.prepare(sqlText);
      },
    };
    db = new Kysely<Tables>({ dialect: new GroupCommitSqliteDialect(sqlite, database, () => elapsedMs) });
    // A second connection, as another process or the session reader: it sees committed data only.
    other = new SQLite(path, { readonly: true });
  });

  afterEach(async () => {
    other.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const committedLabels = (): string[] =>
    (other.prepare("select label from item order by id").all() as { label: string }[]).map((row) => row.label);
  const insert = (trx: Kysely<Tables>, label: string): Promise<unknown> =>
    trx
      .insertInto("item")
      .values({ label } as Tables["item"])
      .execute();

  it("queued transactions share one COMMIT; each resolves only once its writes are committed", async () => {
    const labels = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const seenAtResolve: boolean[] = [];
    await Promise.all(
      labels.map(async (label) => {
        await db.transaction().execute((trx) => insert(trx, label));
        seenAtResolve.push(committedLabels().includes(label));
      }),
    );
    expect(seenAtResolve).toEqual(labels.map(() => true));
    expect(committedLabels().sort()).toEqual([...labels].sort());
    const commits = control.filter((s) => s === "commit").length;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(labels.length / 2);
  });

  it("a lone transaction commits by itself once the input already at hand has had its turn", async () => {
    await db.transaction().execute((trx) => insert(trx, "alone"));
    expect(committedLabels()).toEqual(["alone"]);
    expect(control).toEqual(["begin", "savepoint", "release", "commit"]);
  });

  it("a transaction that rolls back undoes only its own writes; the rest of its group commits", async () => {
    const outcomes = await Promise.allSettled([
      db.transaction().execute((trx) => insert(trx, "kept-1")),
      db.transaction().execute(async (trx) => {
        await insert(trx, "undone");
        throw new Error("refused");
      }),
      db.transaction().execute((trx) => insert(trx, "kept-2")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(committedLabels()).toEqual(["kept-1", "kept-2"]);
    expect(control.filter((s) => s === "commit")).toHaveLength(1);
  });

  it(`a group commits once it is ${maxGroupMs} ms old, even while others wait`, async () => {
    await Promise.all([
      db.transaction().execute((trx) => insert(trx, "early")),
      db.transaction().execute(async (trx) => {
        elapsedMs += maxGroupMs; // this member ends the group's time
        await insert(trx, "on-time");
      }),
      db.transaction().execute((trx) => insert(trx, "next-group")),
    ]);
    expect(committedLabels()).toEqual(["early", "on-time", "next-group"]);
    expect(control.filter((s) => s === "commit")).toHaveLength(2);
  });

  it(`a group holds at most ${maxGroupSize} transactions`, async () => {
    const count = maxGroupSize * 2 + 5;
    await Promise.all(Array.from({ length: count }, (_, i) => db.transaction().execute((trx) => insert(trx, `n${i}`))));
    expect(committedLabels()).toHaveLength(count);
    let inGroup = 0;
    let largest = 0;
    for (const statement of control) {
      if (statement === "savepoint") inGroup += 1;
      if (statement === "commit") {
        largest = Math.max(largest, inGroup);
        inGroup = 0;
      }
    }
    expect(largest).toBeLessThanOrEqual(maxGroupSize);
    expect(control.filter((s) => s === "commit").length).toBeGreaterThanOrEqual(3);
  });

  it("a failed COMMIT fails every member of its group and keeps none of their writes", async () => {
    // A deferred foreign key is checked at COMMIT: the orphan fails the whole group.
    const outcomes = await Promise.allSettled([
      db.transaction().execute((trx) => insert(trx, "innocent")),
      db.transaction().execute((trx) => trx.insertInto("child").values({ id: 1, parent_id: 42 }).execute()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(committedLabels()).toEqual([]);
    expect(sqlite.inTransaction).toBe(false);
    // The connection is usable again.
    await db.transaction().execute((trx) => insert(trx, "after"));
    expect(committedLabels()).toEqual(["after"]);
  });

  it("a group that SQLite aborts fails every member, also those that had already ended", async () => {
    const outcomes = await Promise.allSettled([
      db.transaction().execute((trx) => insert(trx, "first")),
      db.transaction().execute(async (trx) => {
        await insert(trx, "second");
        // What SQLite does by itself on some errors (disk full, I/O): the whole transaction is gone.
        await sql`rollback`.execute(trx);
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(committedLabels()).toEqual([]);
    await db.transaction().execute((trx) => insert(trx, "after"));
    expect(committedLabels()).toEqual(["after"]);
  });

  it("a query outside any transaction that joins an open group returns once the group has committed", async () => {
    const order: string[] = [];
    await Promise.all([
      db
        .transaction()
        .execute(async (trx) => {
          await insert(trx, "grouped");
          order.push("transaction ended");
        })
        .then(() => order.push("transaction resolved")),
      db
        .selectFrom("item")
        .select("label")
        .execute()
        .then((rows) => {
          order.push(`read ${rows.map((r) => r.label).join(",")}`);
          expect(committedLabels()).toEqual(["grouped"]);
        }),
    ]);
    expect(order[0]).toBe("transaction ended");
    expect(order).toContain("read grouped");
  });

  it("a controlled transaction's commit() resolves once committed; its savepoint rolls back, escaped", async () => {
    const trx = await db.startTransaction().execute();
    await insert(trx, "before");
    const inner = await trx.savepoint('odd "name"').execute();
    await insert(inner, "undone");
    const back = await inner.rollbackToSavepoint('odd "name"').execute();
    await insert(back, "after");
    await back.commit().execute();
    expect(committedLabels()).toEqual(["before", "after"]);
  });

  it("shares the file with a writer on another thread (as a process would): no lost write, no timeout", async () => {
    // The other writer: its own connection and event loop, autocommit inserts as fast as it can until ours are
    // done (a shared flag), then ten more: its rows come before and after ours however the threads are scheduled.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const otherWriter = new Worker(
      `
      const { workerData, parentPort } = require("node:worker_threads");
      const SQLite = require("better-sqlite3");
      const db = new SQLite(workerData.path);
      db.pragma("busy_timeout = 5000");
      const insert = db.prepare("insert into item (label) values (?)");
      const stop = new Int32Array(workerData.stop);
      let written = 0;
      while (Atomics.load(stop, 0) === 0) {
        insert.run("w" + written++);
        if (written === 1) parentPort.postMessage("writing");
      }
      for (let i = 0; i < 10; i++) insert.run("w" + written++);
      db.close();
      parentPort.postMessage(written);
    `,
      { eval: true, workerData: { path: sqlite.name, stop: stop.buffer } },
    );
    const message = (expected: string | "count"): Promise<number> =>
      new Promise((resolve, reject) => {
        otherWriter.on("message", (m) => {
          if (m === expected) resolve(0);
          else if (expected === "count" && typeof m === "number") resolve(m);
        });
        otherWriter.on("error", reject);
      });
    const finished = message("count");
    await message("writing");
    await Promise.all(Array.from({ length: 300 }, (_, i) => db.transaction().execute((trx) => insert(trx, `g${i}`))));
    Atomics.store(stop, 0, 1);
    const [otherCount, labels] = [await finished, committedLabels()];
    expect(labels.filter((label) => label.startsWith("w"))).toHaveLength(otherCount);
    expect(labels.filter((label) => label.startsWith("g"))).toHaveLength(300);
    // The writers took turns on the file: the other one's rows come both before and after ours.
    expect(labels.filter((label, i) => i > 0 && label[0] !== labels[i - 1]?.[0]).length).toBeGreaterThanOrEqual(2);
  });
});
