/*
 * The change bus's parts on their own (db/bus/): what the write tracker counts as a change to a
 * cached table, and the polled transport's promises: a publish reaches another handle on the same
 * database within a second, and `live()` turns false when the reads fail, so no cache trusts a bus
 * that cannot hear; once reads succeed again everything counts as changed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeBus, remoteChangeBoundMs, type Changed } from "../../src/db/bus/change-bus.js";
import { watchedTablesWrittenBy } from "../../src/db/bus/write-tracking.js";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import { eventually } from "../support/server-process.js";

describe("the write tracker", () => {
  const db = createDb("sqlite::memory:");
  afterAll(() => db.destroy());
  const written = (query: { compile(): Parameters<typeof watchedTablesWrittenBy>[0] }): string[] =>
    watchedTablesWrittenBy(query.compile());

  it("counts updates and deletes of sessions and users, and any write of the policy and the signing keys", () => {
    expect(written(db.updateTable("session").set({ revoked_at: 1 }).where("id", "=", "s"))).toEqual(["session"]);
    expect(written(db.deleteFrom("user").where("id", "=", "u"))).toEqual(["user"]);
    expect(written(db.updateTable("policy").set({ require_2fa: "all" }))).toEqual(["policy"]);
    expect(written(db.deleteFrom("signing_key").where("id", "in", ["k"]))).toEqual(["signing_key"]);
  });

  it("ignores reads, new sessions and users (a missing row is never cached) and other tables", () => {
    expect(written(db.selectFrom("session").selectAll())).toEqual([]);
    expect(written(db.insertInto("session").values({ id: "s" } as never))).toEqual([]);
    expect(written(db.updateTable("audit_event").set({ detail: "" }))).toEqual([]);
  });

  it("assumes hand-written SQL that may write changes every cached table", () => {
    const raw = (query: ReturnType<typeof sql>): string[] => watchedTablesWrittenBy(query.compile(db));
    expect(raw(sql`UPDATE "user" SET locked = 1`)).toEqual(["session", "user", "policy", "signing_key"]);
    expect(raw(sql`SELECT 1`)).toEqual([]);
  });
});

describe("the polled bus on a SQLite file", () => {
  let dir: string;
  let first: Kysely<Database>;
  let second: Kysely<Database>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-bus-"));
    first = createDb(`sqlite:${join(dir, "t.db")}`, { groupCommit: false });
    await migrateToLatest(first);
    second = createDb(`sqlite:${join(dir, "t.db")}`, { groupCommit: false });
  });
  afterAll(async () => {
    await first.destroy();
    await second.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers a publish at once here and within a second on another handle", async () => {
    const heardHere: Changed[] = [];
    const heardThere: Changed[] = [];
    changeBus(first).onChange((changed) => heardHere.push(changed));
    changeBus(second).onChange((changed) => heardThere.push(changed));
    await eventually(async () => (changeBus(second).live() ? true : undefined), 2_000, "the bus");
    heardThere.length = 0;
    changeBus(first).publish(["signing_key"]);
    expect(heardHere.some((changed) => changed !== "all" && changed.has("signing_key"))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, remoteChangeBoundMs));
    expect(heardThere.some((changed) => changed !== "all" && changed.has("signing_key"))).toBe(true);
  });

  it("is not live while its reads fail, and counts everything changed once they succeed again", async () => {
    const bus = changeBus(second);
    const heard: Changed[] = [];
    bus.onChange((changed) => heard.push(changed));
    const connection: boolean[] = [];
    bus.onConnection((up) => connection.push(up));
    await first.schema.alterTable("change_version").renameTo("change_version_away").execute();
    await eventually(async () => (bus.live() ? undefined : true), remoteChangeBoundMs + 500, "not live");
    await first.schema.alterTable("change_version_away").renameTo("change_version").execute();
    await eventually(async () => (bus.live() ? true : undefined), 2_000, "live again");
    expect(heard).toContain("all");
    // What the app logs: lost once, back once.
    expect(connection).toEqual([false, true]);
  });
});
