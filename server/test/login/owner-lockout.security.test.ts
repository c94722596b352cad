/*
 * Attack: lock the owner out of password login by spending the account's allowance of guesses from
 * elsewhere (issue 14 finding 5), or get twice the allowance by guessing under the username and the email
 * address in turn. One count per account; a client that signed in before (a browser by its
 * `tessera_client` cookie, an API client by its IP address) keeps an allowance of its own. Run on every
 * dialect, and on Redis-shared counters when TEST_REDIS_URL is set.
 */
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { strongPassword, uniqueName } from "../support/accounts.js";
import { expectError, type Reply, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const redisUrl = process.env["TEST_REDIS_URL"];
const counters = [{ name: "memory" }, ...(redisUrl === undefined ? [] : [{ name: "redis", redisUrl }])];

for (const dialect of testDialects()) {
  for (const store of counters) {
    describe(`owner-safe guessing limits [${dialect.name}, ${store.name}]`, () => {
      let t: TestApp;
      // Counters in Redis outlive the app: each suite takes addresses of its own.
      const net = `10.${randomInt(1, 250)}.${randomInt(1, 250)}`;
      let host = 0;
      const nextIp = (): string => `${net}.${(host = (host % 250) + 1)}`;
      beforeAll(async () => {
        t = await appOn(dialect, {
          env: { RATE_LIMIT: "on" },
          ...(store.redisUrl === undefined ? {} : { redisUrl: store.redisUrl }),
        });
      });
      afterAll(async () => t.close());

      const loginFrom = (
        remoteAddress: string,
        username: string,
        password: string,
        cookies: Record<string, string> = {},
      ): Promise<Reply> =>
        send(t.app, { method: "POST", url: "/api/auth/login", body: { username, password }, remoteAddress, cookies });

      /** An account with a verified address (set directly: these suites send no mail). */
      async function account(): Promise<{ username: string; email: string }> {
        const username = uniqueName(`owner-${randomInt(1e9)}`);
        const email = `${username}@example.org`;
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/register",
          body: { username, password: strongPassword },
          remoteAddress: nextIp(),
        });
        expect(res.status).toBe(201);
        await t.db.updateTable("user").set({ email, email_verified: 1 }).where("username", "=", username).execute();
        return { username, email };
      }

      it("twenty wrong passwords from elsewhere do not stop the owner's browser, even from a new network", async () => {
        const { username } = await account();
        const first = await loginFrom(nextIp(), username, strongPassword);
        expect(first.status).toBe(200);
        const cookie = first.raw.cookies.find((c) => c.name === "tessera_client");
        expect(cookie?.httpOnly).toBe(true);
        for (let i = 0; i < 20; i++) expect((await loginFrom(nextIp(), username, `guess ${i}`)).status).toBe(401);
        expectError(await loginFrom(nextIp(), username, strongPassword), 429, "rate_limited");
        const owner = await loginFrom(nextIp(), username, strongPassword, { tessera_client: cookie?.value ?? "" });
        expect(owner.status, JSON.stringify(owner.body)).toBe(200);
        // A made-up cookie is a stranger's.
        const forged = await loginFrom(nextIp(), username, strongPassword, { tessera_client: "A".repeat(43) });
        expectError(forged, 429, "rate_limited");
      });

      it("twenty wrong passwords from elsewhere do not stop the owner's API client on its known address", async () => {
        const { username } = await account();
        const scriptIp = nextIp();
        expect((await loginFrom(scriptIp, username, strongPassword)).status).toBe(200);
        for (let i = 0; i < 25; i++) await loginFrom(nextIp(), username, `guess ${i}`);
        expect((await loginFrom(scriptIp, username, strongPassword)).status).toBe(200);
        // Known for 30 days since its last sign-in, then a stranger again.
        t.clock.advance(31 * 24 * 60 * 60);
        for (let i = 0; i < 20; i++) await loginFrom(nextIp(), username, `later guess ${i}`);
        expectError(await loginFrom(scriptIp, username, strongPassword), 429, "rate_limited");
      });

      it("an attacker on a known address spends only that address's allowance, not the owner's browser's", async () => {
        const { username } = await account();
        const shared = nextIp();
        const browser = await loginFrom(nextIp(), username, strongPassword);
        const cookie = browser.raw.cookies.find((c) => c.name === "tessera_client")?.value ?? "";
        expect((await loginFrom(shared, username, strongPassword)).status).toBe(200);
        for (let i = 0; i < 20; i++) expect((await loginFrom(shared, username, `guess ${i}`)).status).toBe(401);
        expectError(await loginFrom(shared, username, strongPassword), 429, "rate_limited");
        expect((await loginFrom(nextIp(), username, strongPassword, { tessera_client: cookie })).status).toBe(200);
      });

      it("guessing under the username and the email address in turn gets one allowance, not two", async () => {
        const { username, email } = await account();
        for (let i = 0; i < 20; i++) {
          const name = i % 2 === 0 ? username : email.toUpperCase();
          expect((await loginFrom(nextIp(), name, `guess ${i}`)).status, `guess ${i}`).toBe(401);
        }
        expectError(await loginFrom(nextIp(), username, strongPassword), 429, "rate_limited");
        expectError(await loginFrom(nextIp(), email, strongPassword), 429, "rate_limited");
      });
    });
  }
}
