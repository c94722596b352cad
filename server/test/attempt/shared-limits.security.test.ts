/*
 * Attack: spreading password guesses over instances behind a load balancer, so that no instance's
 * own count fills. With REDIS_URL the per-account allowance is one count in Redis for every
 * instance (SPEC §3): failures on either instance add up, parallel guesses included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { expectError, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const redisUrl = process.env["TEST_REDIS_URL"];
const [firstDialect] = testDialects();
// Shared through Redis (REDIS_URL), as SPEC §3 asks when instances run side by side.
if (redisUrl !== undefined && redisUrl !== "" && firstDialect !== undefined) {
  describe("per-account login limit shared through Redis by two instances", () => {
    let a: TestApp;
    let b: TestApp;
    // Redis outlives the test databases: unique names and addresses keep runs apart.
    const run = Math.random().toString(36).slice(2, 8);
    const victim = `victim-${run}`;
    const ip = (i: number): string =>
      `10.${Math.floor(Math.random() * 200) + 20}.${Math.floor(i / 200)}.${(i % 200) + 1}`;
    beforeAll(async () => {
      a = await appOn(firstDialect, { env: { RATE_LIMIT: "on" }, redisUrl, groupCommit: false });
      b = await buildTestApp({
        databaseUrl: a.databaseUrl,
        secretKey: a.secretKey,
        env: { RATE_LIMIT: "on" },
        redisUrl,
        groupCommit: false,
      });
      await send(a.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: victim, password: strongPassword },
        remoteAddress: ip(0),
      });
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it("counts failures on both instances against one allowance, and successes not at all", async () => {
      for (let i = 1; i <= 5; i++)
        expect(
          (
            await send(a.app, {
              method: "POST",
              url: "/api/auth/login",
              body: { username: victim, password: strongPassword },
              remoteAddress: ip(i),
            })
          ).status,
        ).toBe(200);
      for (let i = 1; i <= 20; i++) {
        const app = i % 2 === 0 ? a.app : b.app;
        expect(
          (
            await send(app, {
              method: "POST",
              url: "/api/auth/login",
              body: { username: victim, password: "wrong password guess" },
              remoteAddress: ip(i),
            })
          ).status,
          `failure ${i}`,
        ).toBe(401);
      }
      expectError(
        await send(a.app, {
          method: "POST",
          url: "/api/auth/login",
          body: { username: victim, password: strongPassword },
          remoteAddress: ip(50),
        }),
        429,
        "rate_limited",
      );
      expectError(
        await send(b.app, {
          method: "POST",
          url: "/api/auth/login",
          body: { username: victim, password: strongPassword },
          remoteAddress: ip(51),
        }),
        429,
        "rate_limited",
      );
    });

    it("verifies at most 20 of 60 parallel guesses spread over both instances", async () => {
      const name = `stormed-${run}`;
      await send(b.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: name, password: strongPassword },
        remoteAddress: ip(0),
      });
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          send(i % 2 === 0 ? a.app : b.app, {
            method: "POST",
            url: "/api/auth/login",
            body: { username: name, password: `guess ${i}` },
            remoteAddress: ip(i),
          }),
        ),
      );
      expect(results.filter((r) => r.status === 401).length).toBeLessThanOrEqual(20);
      expect(results.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    });
  });
}
