import type { Kysely } from "kysely";
import type { Database } from "../database.js";
import { BusCore, remoteChangeBoundMs, type ChangeBus } from "./change-bus.js";

/*
 * For MySQL and SQLite files: each topic (a table name) has a version in `change_version`; a publish
 * increments it, and every instance reads the table every 250 ms. `live()` is true while the last
 * successful read was sent less than `remoteChangeBoundMs` ago, so a change committed elsewhere is
 * seen within a poll period plus a round trip, and a cache stops serving if the reads stall or fail.
 * The first read, and the first after a failure, counts everything as changed.
 */

export const pollPeriodMs = 250;

export function createPollBus(db: Kysely<Database>): ChangeBus {
  const core = new BusCore(async (tables) => {
    const result = await db
      .updateTable("change_version")
      .set((eb) => ({ version: eb("version", "+", 1) }))
      .where("topic", "in", tables)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === tables.length) return;
    // A topic nobody published before: its row starts at 1 (two instances racing here both count).
    const present = await db.selectFrom("change_version").select("topic").where("topic", "in", tables).execute();
    const known = new Set(present.map((row) => row.topic));
    for (const topic of tables.filter((table) => !known.has(table)))
      await db
        .insertInto("change_version")
        .values({ topic, version: 1 })
        .execute()
        .catch(() => undefined);
  });
  const seen = new Map<string, number>();
  let started = false;
  let closed = false;
  let lastPollSentAt = -Infinity;
  let failed = true;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;

  async function poll(): Promise<void> {
    const sentAt = performance.now();
    try {
      const rows = await db.selectFrom("change_version").select(["topic", "version"]).execute();
      const changed = new Set<string>();
      for (const row of rows) {
        const version = Number(row.version);
        if (seen.get(row.topic) !== version) changed.add(row.topic);
        seen.set(row.topic, version);
      }
      lastPollSentAt = sentAt;
      if (failed) core.deliver("all");
      else if (changed.size > 0) core.deliver(changed);
      failed = false;
      core.connection(true);
    } catch {
      failed = true;
      core.connection(false);
    }
  }

  function loop(): void {
    if (closed) return;
    polling = poll().finally(() => {
      polling = null;
      if (closed) return;
      timer = setTimeout(loop, pollPeriodMs);
      timer.unref();
    });
  }

  return {
    kind: "poll",
    publish: (tables) => core.publish(tables),
    onChange(listener) {
      core.listen(listener);
      if (started) return;
      started = true;
      loop();
    },
    onConnection: (listener) => core.onConnection(listener),
    live: () => !failed && performance.now() - lastPollSentAt < remoteChangeBoundMs,
    async close() {
      await core.flush();
      closed = true;
      if (timer !== null) clearTimeout(timer);
      await polling;
    },
  };
}
