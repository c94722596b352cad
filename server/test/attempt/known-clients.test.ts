/*
 * A known client (SPEC "Accounts and login": a browser by its cookie, an API client by its IP address) stays
 * known for at least 30 days after its last sign-in. Its row is renewed at most once a day: the other
 * sign-ins of the day leave it unwritten, so a login's commit writes fewer pages. Run on every dialect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { strongPassword, uniqueName } from "../support/accounts.js";
import { send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const day = 24 * 60 * 60;

for (const dialect of testDialects()) {
  describe(`known clients are renewed at most once a day [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    /** A browser on one address: the first sign-in gives it its `tessera_client` cookie, it sends it back. */
    let cookie: string | undefined;
    const login = async (username: string): Promise<void> => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username, password: strongPassword },
        remoteAddress: "192.0.2.44",
        cookies: cookie === undefined ? {} : { tessera_client: cookie },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      cookie ??= res.raw.cookies.find((c) => c.name === "tessera_client")?.value;
    };
    const expiries = async (username: string): Promise<number[]> => {
      const rows = await t.db
        .selectFrom("known_client")
        .innerJoin("user", "user.id", "known_client.user_id")
        .select("known_client.expires_at")
        .where("user.username", "=", username)
        .execute();
      return rows.map((row) => Number(row.expires_at));
    };

    it("a sign-in renews the client for 31 days, later sign-ins that day leave the row as it is", async () => {
      const username = uniqueName("known");
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username, password: strongPassword },
        remoteAddress: "192.0.2.44",
      });
      expect(res.status).toBe(201);
      await login(username);
      // The browser's new cookie, and the address.
      const first = await expiries(username);
      expect(first).toEqual([t.clock.now() + 31 * day * 1000, t.clock.now() + 31 * day * 1000]);

      t.clock.advance(day - 60);
      await login(username);
      expect(await expiries(username)).toEqual(first);

      // Less than 30 days left: renewed again, from now.
      t.clock.advance(120);
      await login(username);
      expect(await expiries(username)).toEqual([t.clock.now() + 31 * day * 1000, t.clock.now() + 31 * day * 1000]);
    });
  });
}
