/*
 * Attack: cutting the change bus so that a revocation made elsewhere never arrives. If the
 * listener connection of an instance dies (here `pg_terminate_backend`, as a PostgreSQL restart or a
 * proxy would), the notices sent meanwhile are lost: the instance must stop serving sessions from
 * memory at once, empty its cache when it listens again, and hear the next revocations as before.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { changeBus, remoteChangeBoundMs } from "../../src/db/bus/change-bus.js";
import { listenerApplicationName } from "../../src/db/bus/pg-listener.js";
import { register, uniqueName } from "../support/accounts.js";
import { useTwoInstances, type TestApp } from "../support/app.js";
import { postgresDialect } from "../support/dialects.js";
import { call } from "../support/http.js";
import { eventually } from "../support/server-process.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const dialect = postgresDialect();

describe.skipIf(dialect === null)("the change bus's listener killed [postgres]", () => {
  let a: TestApp;
  let b: TestApp;
  if (dialect !== null)
    useTwoInstances(dialect, (first, second) => {
      a = first;
      b = second;
    });

  /** A plain connection to the apps' database, announcing nothing: what a DBA's psql is. */
  async function outside<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: a.databaseUrl });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }
  const listeners = (): Promise<number[]> =>
    outside(async (client) => {
      const { rows } = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        [listenerApplicationName],
      );
      return rows.map((row) => row.pid);
    });
  const me = async (t: TestApp, token: string): Promise<number> =>
    (await call(t.app, "GET", "/api/user/me", { token })).status;
  async function warmVictim(): Promise<{ userId: string; token: string }> {
    const { userId, accessToken } = await register(a.app, uniqueName("victim"));
    for (const t of [a, b, a, b]) expect(await me(t, accessToken)).toBe(200);
    return { userId, token: accessToken };
  }

  it("attack: listener killed → caches flushed, and invalidation still works after the reconnect", async () => {
    await eventually(async () => (changeBus(b.db).live() ? true : undefined), 5_000, "b's bus");
    const killed = await listeners();
    expect(killed).toHaveLength(2); // one per instance

    // A revocation nobody announces: b serves the session it cached (this is what the cache does)…
    const first = await warmVictim();
    await outside((client) =>
      client.query("UPDATE session SET revoked_at = $1 WHERE user_id = $2", [a.clock.now(), first.userId]),
    );
    expect(await me(b, first.token)).toBe(200);
    // …until its listener dies: then it may not trust its memory any more.
    await outside((client) =>
      client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])", [killed]),
    );
    await sleep(remoteChangeBoundMs);
    expect(await me(b, first.token)).toBe(401);
    expect(await me(a, first.token)).toBe(401);

    // Listening again, on new connections, and hearing revocations as before.
    await eventually(async () => (changeBus(b.db).live() && changeBus(a.db).live() ? true : undefined), 10_000, "bus");
    const now = await listeners();
    expect(now).toHaveLength(2);
    expect(now.filter((pid) => killed.includes(pid))).toEqual([]);
    const second = await warmVictim();
    expect((await call(a.app, "POST", "/api/auth/logout", { token: second.token })).status).toBe(204);
    expect(await me(a, second.token)).toBe(401);
    await sleep(remoteChangeBoundMs);
    expect(await me(b, second.token)).toBe(401);
  });

  it("attack: a revocation nobody announces (SQL by hand) is still refused on every instance within 1 s", async () => {
    const victim = await warmVictim();
    await outside((client) =>
      client.query("UPDATE session SET revoked_at = $1 WHERE user_id = $2", [a.clock.now(), victim.userId]),
    );
    // No notice went out and both buses are live: only the cached row's age bound ends it.
    expect(changeBus(a.db).live() && changeBus(b.db).live()).toBe(true);
    await sleep(remoteChangeBoundMs + 50);
    expect(await me(a, victim.token)).toBe(401);
    expect(await me(b, victim.token)).toBe(401);
  });

  it("attack: a signing key deleted by hand in SQL stops verifying on every instance within 1 s", async () => {
    const { accessToken } = await register(a.app, uniqueName("keyed"));
    for (const t of [a, b]) expect(await me(t, accessToken)).toBe(200); // verified and cached on both
    const header = Buffer.from(accessToken.split(".")[0] ?? "", "base64url").toString("utf8");
    const kid = (JSON.parse(header) as { kid: string }).kid;
    await a.app.services.tokens.rotate(); // a newer key signs from now on; the compromised one is withdrawn below
    await outside((client) => client.query("DELETE FROM signing_key WHERE id = $1", [kid]));
    await sleep(remoteChangeBoundMs + 50);
    for (const t of [a, b]) {
      expect(await me(t, accessToken)).toBe(401);
      const jwks = (await call(t.app, "GET", "/.well-known/jwks.json")).body["keys"] as { kid: string }[];
      expect(jwks.map((key) => key.kid)).not.toContain(kid);
    }
  });
});
