/*
 * Every migration goes down as well as up, on every dialect: an operator who rolls back an upgrade
 * (README "Operations") gets the previous schema, not a half-migrated database.
 */
import { NO_MIGRATIONS, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { createMigrator } from "../../src/db/migrator.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`migrations [${dialect.name}]`, () => {
    let db: Kysely<Database>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const database = await dialect.createDatabase();
      drop = database.drop;
      db = createDb(database.url);
    });
    afterAll(async () => {
      await db.destroy();
      await drop();
    });

    it("go all the way down and up again", async () => {
      const migrator = createMigrator(db);
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      const count = up.results?.length ?? 0;
      expect(count).toBeGreaterThan(1);
      const down = await migrator.migrateTo(NO_MIGRATIONS);
      expect(down.error).toBeUndefined();
      expect(down.results?.every((r) => r.status === "Success")).toBe(true);
      expect(down.results).toHaveLength(count);
      const again = await migrator.migrateToLatest();
      expect(again.error).toBeUndefined();
      expect(again.results).toHaveLength(count);
    });
  });
}
