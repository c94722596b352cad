/*
 * Attack: online password guessing. One client hammering /api/auth/login is stopped per IP
 * (@fastify/rate-limit: 30 a minute), and a distributed attack on one account from many IPs is
 * stopped per account (20 failures in 15 minutes) without locking out other accounts. Every refusal
 * is 429 `rate_limited` with `Retry-After`, for known and unknown usernames alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword } from "../support/accounts.js";
import { expectError, type Reply, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`login rate limits [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { RATE_LIMIT: "on" } });
      // Registered from their own addresses: registration has a per-IP limit of its own.
      await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "victim", password: strongPassword },
        remoteAddress: "198.51.100.1",
      });
      await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "bystander", password: strongPassword },
        remoteAddress: "198.51.100.2",
      });
    });
    afterAll(async () => t.close());

    const loginFrom = (remoteAddress: string, username: string, password = "wrong password guess"): Promise<Reply> =>
      send(t.app, { method: "POST", url: "/api/auth/login", body: { username, password }, remoteAddress });

    it("refuses the 31st login in a minute from one IP with 429 rate_limited and Retry-After", async () => {
      const ip = "203.0.113.7";
      for (let i = 1; i <= 30; i++) {
        const res = await loginFrom(ip, `guess-${i}`);
        expect(res.status, `attempt ${i}`).toBe(401);
      }
      const blocked = await loginFrom(ip, "guess-31");
      expectError(blocked, 429, "rate_limited");
      const retryAfter = Number(blocked.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Even the right password is refused from that address for now.
      expectError(await loginFrom(ip, "bystander", strongPassword), 429, "rate_limited");
      // Another address is unaffected.
      expect((await loginFrom("203.0.113.8", "bystander", strongPassword)).status).toBe(200);
    });

    it("refuses one account after 20 failures from 20 different IPs, while another account still logs in", async () => {
      for (let i = 1; i <= 20; i++) {
        const res = await loginFrom(`192.0.2.${i}`, "victim");
        expect(res.status, `failure ${i}`).toBe(401);
      }
      const blocked = await loginFrom("192.0.2.99", "victim", strongPassword);
      expectError(blocked, 429, "rate_limited");
      expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
      // The limit follows the account, not the spelling.
      expectError(await loginFrom("192.0.2.100", "VICTIM", strongPassword), 429, "rate_limited");
      expectError(await loginFrom("192.0.2.101", "ｖｉｃｔｉｍ", strongPassword), 429, "rate_limited");
      // Another account from the very same addresses is fine.
      expect((await loginFrom("192.0.2.1", "bystander", strongPassword)).status).toBe(200);
      expect((await loginFrom("192.0.2.99", "bystander", strongPassword)).status).toBe(200);
    });

    it("verifies at most 20 of 60 parallel guesses against one account from 60 IPs", async () => {
      await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "stormed", password: strongPassword },
        remoteAddress: "198.51.100.3",
      });
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          loginFrom(`10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, "stormed", `parallel guess ${i}`),
        ),
      );
      const verified = results.filter((r) => r.status === 401).length;
      expect(verified).toBeLessThanOrEqual(20);
      expect(verified).toBeGreaterThan(0);
      for (const res of results.filter((r) => r.status !== 401)) expectError(res, 429, "rate_limited");
      expectError(await loginFrom("10.1.9.9", "stormed", strongPassword), 429, "rate_limited");
    });

    it("does not let X-Forwarded-For from an untrusted peer dodge the per-IP limit", async () => {
      const answers: number[] = [];
      for (let i = 1; i <= 31; i++) {
        answers.push(
          (
            await send(t.app, {
              method: "POST",
              url: "/api/auth/login",
              body: { username: `xff-${i}`, password: "wrong password guess" },
              headers: { "x-forwarded-for": `10.9.9.${i}` },
              remoteAddress: "203.0.113.77",
            })
          ).status,
        );
      }
      expect(answers.slice(0, 30).every((status) => status === 401)).toBe(true);
      expect(answers[30]).toBe(429);
    });

    it("limits an unknown username exactly like a known one (no enumeration through the limiter)", async () => {
      const answers: number[] = [];
      for (let i = 1; i <= 21; i++) answers.push((await loginFrom(`192.0.2.${120 + i}`, "ghost-account")).status);
      expect(answers.slice(0, 20).every((status) => status === 401)).toBe(true);
      expect(answers[20]).toBe(429);
    });

    it("lets the account log in again once its window has passed", async () => {
      t.clock.advance(15 * 60 + 1);
      expect((await loginFrom("192.0.2.200", "victim", strongPassword)).status).toBe(200);
    });

    it("does not count successful logins towards the account limit", async () => {
      for (let i = 1; i <= 25; i++) {
        expect((await loginFrom(`198.51.100.${100 + i}`, "bystander", strongPassword)).status, `login ${i}`).toBe(200);
      }
    });

    it("limits registrations per IP too", async () => {
      const answers: number[] = [];
      for (let i = 1; i <= 11; i++) {
        answers.push(
          (
            await send(t.app, {
              method: "POST",
              url: "/api/auth/register",
              body: { username: `spam-${i}`, password: strongPassword },
              remoteAddress: "203.0.113.50",
            })
          ).status,
        );
      }
      expect(answers.slice(0, 10).every((status) => status === 201)).toBe(true);
      expect(answers[10]).toBe(429);
    });
  });

  describe(`rate limits switched off [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
      await register(t.app, "free");
    });
    afterAll(async () => t.close());

    it("never answers 429 with RATE_LIMIT=off", async () => {
      for (let i = 1; i <= 40; i++) {
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          body: { username: "free", password: "wrong password guess" },
        });
        expect(res.status, `attempt ${i}`).toBe(401);
      }
    });
  });
}
