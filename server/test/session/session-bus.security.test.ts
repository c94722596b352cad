/*
 * Attack: a revoked session kept alive by another instance's memory. On PostgreSQL and MySQL every
 * instance caches the session lookup while its change bus is live (db/bus/): the instance that
 * revokes refuses the very next request, another instance within `remoteChangeBoundMs` (1 s). Each
 * way a session ends or changes is made on instance a and observed on both, through the API, after
 * both have served (and cached) the session. SQLite files have their own signal
 * (session-cache.security.test.ts); session-bus-outage.security.test.ts kills the bus itself.
 */
import { describe, expect, it } from "vitest";
import { remoteChangeBoundMs } from "../../src/db/bus/change-bus.js";
import { enrolledUser, fullLogin, login, register, strongPassword, uniqueName } from "../support/accounts.js";
import { adminSession, setPolicy } from "../support/admin.js";
import { useTwoInstances, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, str } from "../support/http.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Victim {
  username: string;
  userId: string;
  token: string;
  secret?: string;
}

/** A way to end or change a session, made on instance a; `probe` is the request whose answer must change. */
interface Revocation {
  name: string;
  probe?: string;
  victim?: (t: TestApp) => Promise<Victim>;
  revoke(t: TestApp, victim: Victim, admin: string): Promise<void>;
}

const plainVictim = async (t: TestApp): Promise<Victim> => {
  const username = uniqueName("victim");
  const { userId, accessToken } = await register(t.app, username);
  return { username, userId, token: accessToken };
};

const ok = (status: number, expected = 204): void => expect(status).toBe(expected);

const revocations: Revocation[] = [
  {
    name: "logout",
    revoke: async (t, v) => ok((await call(t.app, "POST", "/api/auth/logout", { token: v.token })).status),
  },
  {
    name: "revoke this session from another one",
    revoke: async (t, v) => {
      const other = str((await login(t.app, v.username)).body["access_token"]);
      const sessions = (await call(t.app, "GET", "/api/auth/sessions", { token: other })).body["sessions"] as {
        id: string;
        current: boolean;
      }[];
      const target = sessions.find((s) => !s.current)?.id ?? "";
      ok((await call(t.app, "DELETE", `/api/auth/sessions/${target}`, { token: other })).status);
    },
  },
  {
    name: "password change (ends the other sessions)",
    revoke: async (t, v) => {
      const other = str((await login(t.app, v.username)).body["access_token"]);
      const body = { current_password: strongPassword, new_password: `${strongPassword} 2` };
      ok((await call(t.app, "POST", "/api/user/password", { token: other, body })).status);
    },
  },
  {
    name: "admin ends every session",
    revoke: async (t, v, admin) =>
      ok((await call(t.app, "POST", `/api/admin/users/${v.userId}/revoke-sessions`, { token: admin })).status),
  },
  {
    name: "admin lock",
    revoke: async (t, v, admin) =>
      ok((await call(t.app, "POST", `/api/admin/users/${v.userId}/lock`, { token: admin })).status),
  },
  {
    name: "admin role change",
    revoke: async (t, v, admin) =>
      ok(
        (await call(t.app, "PUT", `/api/admin/users/${v.userId}/roles`, { token: admin, body: { roles: ["ops"] } }))
          .status,
        200,
      ),
  },
  {
    name: "admin 2FA reset",
    victim: async (t) => {
      const username = uniqueName("enrolled");
      const { userId, secret } = await enrolledUser(t.app, t.clock, username);
      return { username, userId, secret, token: (await fullLogin(t, username, secret)).accessToken };
    },
    revoke: async (t, v, admin) =>
      ok((await call(t.app, "POST", `/api/admin/users/${v.userId}/reset-2fa`, { token: admin })).status),
  },
  {
    name: "account deletion",
    revoke: async (t, v) =>
      ok((await call(t.app, "DELETE", "/api/user", { token: v.token, body: { password: strongPassword } })).status),
  },
  // Last: it holds for every later session of the database.
  {
    name: "two-factor policy change",
    probe: "/api/auth/sessions",
    revoke: async (t, _v, admin) => setPolicy(t, admin, "all"),
  },
];

for (const dialect of testDialects()) {
  if (dialect.name === "sqlite") continue;
  describe(`session revocations on two instances of one ${dialect.name} database`, () => {
    let a: TestApp;
    let b: TestApp;
    useTwoInstances(dialect, (first, second) => {
      a = first;
      b = second;
    });

    const answer = async (t: TestApp, path: string, token: string): Promise<string> => {
      const res = await call(t.app, "GET", path, { token });
      return `${res.status} ${JSON.stringify(res.body)}`;
    };

    for (const revocation of revocations) {
      it(`attack: revoked session used on the other instance after 1 s is refused (${revocation.name})`, async () => {
        const admin = (await adminSession(a)).token;
        const victim = await (revocation.victim ?? plainVictim)(a);
        const path = revocation.probe ?? "/api/user/me";
        // Both instances serve it, twice: it is in both caches.
        const before = await answer(a, path, victim.token);
        expect(before.startsWith("200 ")).toBe(true);
        for (const t of [b, a, b]) expect(await answer(t, path, victim.token)).toBe(before);

        await revocation.revoke(a, victim, admin);
        // The instance that made the change: at once.
        const after = await answer(a, path, victim.token);
        expect(after).not.toBe(before);
        await sleep(remoteChangeBoundMs);
        expect(await answer(b, path, victim.token)).toBe(after);
      });
    }

    it("attack: a session revoked on this instance is refused by its very next request, any writer", async () => {
      const victim = await plainVictim(a);
      for (const t of [a, b, a])
        expect((await call(t.app, "GET", "/api/user/me", { token: victim.token })).status).toBe(200);
      // A write through the instance's own database handle, as any code path of it would make.
      await a.db
        .updateTable("session")
        .set({ revoked_at: a.clock.now() })
        .where("user_id", "=", victim.userId)
        .execute();
      expect((await call(a.app, "GET", "/api/user/me", { token: victim.token })).status).toBe(401);
      await sleep(remoteChangeBoundMs);
      expect((await call(b.app, "GET", "/api/user/me", { token: victim.token })).status).toBe(401);
    });
  });
}
