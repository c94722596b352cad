/*
 * Attack: riding a session that a cache still believes in. On SQLite an authenticated request reads
 * its session from memory while the database is unchanged (db/sqlite/read-cache.ts). An attacker holding a
 * stolen access token keeps using it after the victim logs out everywhere, after an administrator
 * locks the account, or on an instance that cached the session before the revocation elsewhere; or
 * reads a change another request has not committed. Pins SPEC §2 "the session is revoked at once":
 * the instance that made a change refuses the very next request, and another process on the same
 * SQLite file within `dataVersionRecheckMs` (1 ms), another instance on PostgreSQL or MySQL within
 * `remoteChangeBoundMs` (1 s, the change bus: db/bus/). session-bus.security.test.ts attacks the bus itself.
 * Run on every dialect, both apps on one database and one fixed clock.
 */
import { describe, expect, it } from "vitest";
import { login, register } from "../support/accounts.js";
import { call, str } from "../support/http.js";
import { useTwoInstances, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { remoteChangeBoundMs } from "../../src/db/bus/change-bus.js";
import { dataVersionRecheckMs } from "../../src/db/sqlite/read-cache.js";

let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${counter++}`;

for (const dialect of testDialects()) {
  describe(`session cache on two instances of one ${dialect.name} database`, () => {
    let a: TestApp;
    let b: TestApp;
    useTwoInstances(dialect, (first, second) => {
      a = first;
      b = second;
    });

    /** Lets the window in which another process's commit may go unseen pass. */
    const otherProcessWindow = (): Promise<void> =>
      new Promise((resolve) =>
        setTimeout(resolve, (dialect.name === "sqlite" ? dataVersionRecheckMs : remoteChangeBoundMs) + 1),
      );

    const me = async (t: TestApp, token: string): Promise<number> =>
      (await call(t.app, "GET", "/api/user/me", { token })).status;

    /** A user whose session both instances have already served (and so cached, on SQLite). */
    async function warmSession(prefix: string): Promise<{ username: string; userId: string; token: string }> {
      const username = uniqueName(prefix);
      const user = await register(a.app, username);
      expect(await me(a, user.accessToken)).toBe(200);
      expect(await me(b, user.accessToken)).toBe(200);
      expect(await me(a, user.accessToken)).toBe(200);
      return { username, userId: user.userId, token: user.accessToken };
    }

    it("refuses the access token on both instances right after a logout on one of them", async () => {
      const { token } = await warmSession("logout");
      expect((await call(b.app, "POST", "/api/auth/logout", { token })).status).toBe(204);
      expect(await me(b, token)).toBe(401);
      await otherProcessWindow();
      expect(await me(a, token)).toBe(401);
    });

    it("refuses the access token right after another session revokes it on the other instance", async () => {
      const { username, token } = await warmSession("revoke");
      const other = await login(b.app, username);
      const otherToken = str(other.body["access_token"]);
      const listed = (await call(b.app, "GET", "/api/auth/sessions", { token: otherToken })).body["sessions"] as {
        id: string;
        current: boolean;
      }[];
      const victim = listed.find((s) => !s.current);
      expect(victim).toBeDefined();
      expect(
        (await call(b.app, "DELETE", `/api/auth/sessions/${victim?.id ?? ""}`, { token: otherToken })).status,
      ).toBe(204);
      expect(await me(b, token)).toBe(401);
      await otherProcessWindow();
      expect(await me(a, token)).toBe(401);
      expect(await me(a, otherToken)).toBe(200);
    });

    it("refuses the access token right after a write from outside either app (the CLI) locks the account", async () => {
      const { userId, token } = await warmSession("locked");
      const outside = await dialectConnection(a);
      try {
        await outside.updateTable("user").set({ locked: 1 }).where("id", "=", userId).execute();
      } finally {
        await outside.destroy();
      }
      await otherProcessWindow();
      expect(await me(a, token)).toBe(401);
      expect(await me(b, token)).toBe(401);
    });

    it("shows a role change at once instead of the cached user", async () => {
      const { userId, token } = await warmSession("roles");
      await b.db.updateTable("user").set({ roles: "admin" }).where("id", "=", userId).execute();
      expect((await call(b.app, "GET", "/api/user/me", { token })).body["roles"]).toEqual(["admin"]);
      await otherProcessWindow();
      expect((await call(a.app, "GET", "/api/user/me", { token })).body["roles"]).toEqual(["admin"]);
    });

    it("does not see a revocation another request has not committed, and sees it once committed", async () => {
      const { token, userId } = await warmSession("uncommitted");
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let revoked: () => void = () => undefined;
      const revokedInTransaction = new Promise<void>((resolve) => {
        revoked = resolve;
      });
      const transaction = a.db.transaction().execute(async (trx) => {
        await trx.updateTable("session").set({ revoked_at: a.clock.now() }).where("user_id", "=", userId).execute();
        revoked();
        await held;
        throw new Error("rolled back on purpose");
      });
      await revokedInTransaction;
      // The transaction holds its change uncommitted: neither instance may act on it.
      expect(await me(a, token)).toBe(200);
      expect(await me(b, token)).toBe(200);
      release();
      await expect(transaction).rejects.toThrow("rolled back on purpose");
      expect(await me(a, token)).toBe(200);
      await a.db.updateTable("session").set({ revoked_at: a.clock.now() }).where("user_id", "=", userId).execute();
      expect(await me(a, token)).toBe(401);
      await otherProcessWindow();
      expect(await me(b, token)).toBe(401);
    });

    it("refuses a session whose lifetime has ended even while it is cached", async () => {
      const { token, userId } = await warmSession("expired");
      await a.db
        .updateTable("session")
        .set({ expires_at: a.clock.now() + 1000 })
        .where("user_id", "=", userId)
        .execute();
      expect(await me(a, token)).toBe(200);
      a.clock.advance(2);
      expect(await me(a, token)).toBe(401);
      // b cached the session with its old lifetime: the shortened one reaches it like any other process's commit.
      await otherProcessWindow();
      expect(await me(b, token)).toBe(401);
    });
  });
}

/** A third connection to the apps' database, as the CLI or another tool would open. */
async function dialectConnection(t: TestApp): Promise<TestApp["db"]> {
  const { createDb } = await import("../../src/db/connect.js");
  return createDb(t.databaseUrl);
}
