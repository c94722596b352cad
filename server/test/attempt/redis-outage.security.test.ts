/*
 * Attack: guessing passwords while Redis is down, hoping the limits that live there are gone. With
 * REDIS_URL set and Redis killed mid-load, the server keeps answering (no 5xx, no request waiting
 * for Redis), counts the limits in its own memory meanwhile (as without REDIS_URL), logs the outage
 * once, and goes back to Redis when it answers again (SPEC "Staying up"). Redis here is a private
 * redis-server on a free port, killed and restarted by the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { expectError, send, type Reply } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { startPrivateRedis, type PrivateRedis } from "../support/redis-server.js";
import { eventually } from "../support/server-process.js";

const [firstDialect] = testDialects();
// Gated like the other Redis suites: CI sets TEST_REDIS_URL where redis-server is installed.
const redisAvailable = (process.env["TEST_REDIS_URL"] ?? "") !== "";

if (redisAvailable && firstDialect !== undefined) {
  describe("attack: Redis killed mid-load", () => {
    let redis: PrivateRedis;
    let t: TestApp;
    const lines: string[] = [];
    const logged = (text: string): number => lines.filter((line) => line.includes(text)).length;
    let nextIp = 0;
    const freshIp = (): string => `10.77.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
    const login = (username: string, password: string, remoteAddress = freshIp()): Promise<Reply> =>
      send(t.app, { method: "POST", url: "/api/auth/login", body: { username, password }, remoteAddress });

    beforeAll(async () => {
      redis = await startPrivateRedis();
      t = await appOn(firstDialect, {
        env: { RATE_LIMIT: "on" },
        redisUrl: redis.url,
        groupCommit: false,
        logger: { level: "info", stream: { write: (line) => void lines.push(line) } },
      });
      for (const username of ["owner", "guessed", "after"])
        await send(t.app, {
          method: "POST",
          url: "/api/auth/register",
          body: { username, password: strongPassword },
          remoteAddress: freshIp(),
        });
    });
    afterAll(async () => {
      await t.close();
      await redis.stop();
    });

    it("keeps answering without a 5xx or a wait, limits counted in memory, and goes back to Redis", async () => {
      const client = redis.client();
      expect((await login("owner", "wrong password guess")).status).toBe(401);
      expect(await client.keys("tessera:count:*")).not.toEqual([]);
      expect(await client.keys("tessera:rl:*")).not.toEqual([]);

      // Load: logins, right and wrong, from many addresses; Redis is killed a moment in.
      const statuses: number[] = [];
      let slowestMs = 0;
      let stop = false;
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const started = performance.now();
          const res = await login(i % 2 === 0 ? "owner" : `nobody-${w}-${i}`, i % 2 === 0 ? strongPassword : "guess");
          slowestMs = Math.max(slowestMs, performance.now() - started);
          statuses.push(res.status);
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(worker));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = statuses.length;
      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stop = true;
      await load;
      expect(before).toBeGreaterThan(0);
      expect(statuses.length - before, "requests answered after the kill").toBeGreaterThan(20);
      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      expect(new Set(statuses)).toEqual(new Set([200, 401]));
      expect(slowestMs, "the slowest request (ms)").toBeLessThan(2_000);

      // Redis is down: the per-account allowance (20 failures) still runs out, counted in memory…
      for (let i = 0; i < 20; i++) expect((await login("guessed", `guess ${i}`)).status, `guess ${i}`).toBe(401);
      expectError(await login("guessed", strongPassword), 429, "rate_limited");
      // …and so does the per-IP limit of the login route (30 a minute).
      const attacker = freshIp();
      for (let i = 0; i < 30; i++) expect((await login(`stranger-${i}`, "guess", attacker)).status).toBe(401);
      expectError(await login("stranger-30", "guess", attacker), 429, "rate_limited");
      expect(logged("Redis unreachable"), lines.join("")).toBe(1);

      // Redis answers again (empty: nothing was saved): the server reconnects and counts there again.
      await redis.restart();
      await eventually(async () => (logged("Redis answers again") > 0 ? true : undefined), 10_000, "the reconnection");
      expect((await login("after", "wrong password guess")).status).toBe(401);
      const counted = await client.keys("tessera:count:*");
      expect(counted).not.toEqual([]);
      expect(await client.get(counted[0] ?? "")).toBe("1");
      expect(await client.keys("tessera:rl:*")).not.toEqual([]);
      // One line for the outage and one for the return, not one per request or reconnection attempt.
      expect(logged("Redis unreachable")).toBe(1);
      expect(logged("Redis answers again")).toBe(1);
    }, 60_000);

    it("waits at most the command timeout for a Redis that hangs, then counts in memory until it answers", async () => {
      const outagesBefore = logged("Redis unreachable");
      redis.freeze();
      try {
        const statuses: number[] = [];
        let slowestMs = 0;
        const until = Date.now() + 2_500;
        for (let i = 0; Date.now() < until; i++) {
          const started = performance.now();
          statuses.push((await login(`frozen-${i}`, "guess")).status);
          slowestMs = Math.max(slowestMs, performance.now() - started);
        }
        expect(new Set(statuses)).toEqual(new Set([401]));
        expect(statuses.length).toBeGreaterThan(5);
        // 500 ms command timeout, then Redis is left alone for a second: never the minutes of a hung socket.
        expect(slowestMs, "the slowest request (ms)").toBeLessThan(1_500);
        expect(logged("Redis unreachable")).toBe(outagesBefore + 1);
      } finally {
        redis.thaw();
      }
      const returnsBefore = logged("Redis answers again");
      await eventually(
        async () => {
          await login("after", "wrong password guess");
          return logged("Redis answers again") > returnsBefore ? true : undefined;
        },
        10_000,
        "Redis to be used again",
      );
    }, 60_000);
  });
}
