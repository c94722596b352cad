/*
 * The email-claims migration on every dialect: an unverified address already on an account becomes its
 * claim (so it no longer blocks the address's real owner), a verified one stays its identity, and an
 * account without an address keeps none.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database, UserTable } from "../../src/db/database.js";
import { createMigrator } from "../../src/db/migrator.js";
import { testDialects } from "../support/dialects.js";
import { userRow } from "../support/database.js";

/** The user table before the migration (and after its down). */
type Before = Kysely<{ user: Omit<UserTable, "email_claim"> }>;

for (const dialect of testDialects()) {
  describe(`email claims migration [${dialect.name}]`, () => {
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

    it("turns unverified addresses into claims and keeps verified ones, then back down", async () => {
      const migrator = createMigrator(db);
      const before = await migrator.migrateTo("2026_12_02_100000_session_auth_time");
      expect(before.error).toBeUndefined();
      const { email_claim: _claim, ...verified } = userRow("verified", { email: "v@example.org", email_verified: 1 });
      const { email_claim: _c2, ...unverified } = userRow("unverified", { email: "u@example.org" });
      const { email_claim: _c3, ...none } = userRow("none");
      await (db as unknown as Before).insertInto("user").values([verified, unverified, none]).execute();

      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const rows = await db
        .selectFrom("user")
        .select(["id", "email", "email_verified", "email_claim"])
        .orderBy("id")
        .execute();
      expect(rows.map((r) => ({ ...r, email_verified: Number(r.email_verified) }))).toEqual([
        { id: "none", email: null, email_verified: 0, email_claim: null },
        { id: "unverified", email: null, email_verified: 0, email_claim: "u@example.org" },
        { id: "verified", email: "v@example.org", email_verified: 1, email_claim: null },
      ]);
      // Two accounts may now claim one address.
      await db.updateTable("user").set({ email_claim: "u@example.org" }).where("id", "=", "none").execute();

      // Down to before the claims (the later migrations' downs run first).
      const down = await migrator.migrateTo("2026_12_02_100000_session_auth_time");
      expect(down.error).toBeUndefined();
      const after = await (db as unknown as Before).selectFrom("user").select(["id", "email"]).orderBy("id").execute();
      // One claim goes back into the unique column; the other cannot and is dropped.
      expect(after.filter((r) => r.email === "u@example.org")).toHaveLength(1);
      expect(after.find((r) => r.id === "verified")).toEqual({
        id: "verified",
        email: "v@example.org",
      });
    });
  });
}
