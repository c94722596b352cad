/*
 * Attack: account enumeration. An attacker probes /api/auth/login (and registration's email field)
 * to learn which usernames or addresses exist, by comparing status, body, headers or response time.
 * Unknown users and wrong passwords must look identical, and the unknown-user path must spend a
 * password hash (a dummy verification) so it is not measurably faster. The spec allows exactly one
 * difference: `user_exists` when registering a taken username.
 */
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, register, strongPassword } from "../support/accounts.js";
import { expectError, type Json, type Reply, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** Headers that legitimately differ between any two responses. */
const volatile = new Set(["date", "content-length", "x-ratelimit-remaining", "x-ratelimit-reset", "set-cookie"]);
const stableHeaders = (res: Reply): Record<string, unknown> =>
  Object.fromEntries(Object.entries(res.headers).filter(([name]) => !volatile.has(name.toLowerCase())));

for (const dialect of testDialects()) {
  describe(`login does not reveal whether an account exists [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
      await register(t.app, "known", { email: "known@example.com" });
      await enrolledUser(t.app, t.clock, "known2fa");
    });
    afterAll(async () => t.close());

    const attempt = (username: string, password: string): Promise<Reply> =>
      send(t.app, { method: "POST", url: "/api/auth/login", body: { username, password } });

    it("answers an unknown user and a wrong password with the same status, body and headers", async () => {
      const unknown = await attempt("nobody-at-all", "some password guess");
      const wrong = await attempt("known", "some password guess");
      expectError(unknown, 401, "invalid_credentials");
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.text).toBe(wrong.text);
      expect(stableHeaders(unknown)).toEqual(stableHeaders(wrong));
    });

    it("answers an unknown email and a known email with a wrong password identically", async () => {
      const unknown = await attempt("nobody@example.com", "some password guess");
      const wrong = await attempt("known@example.com", "some password guess");
      expect(unknown.status).toBe(401);
      expect(unknown.text).toBe(wrong.text);
    });

    it("answers a wrong password on a two-factor account like an unknown user (no challenge, no hint)", async () => {
      const unknown = await attempt("nobody-at-all", "some password guess");
      const wrong = await attempt("known2fa", "some password guess");
      expect(wrong.text).toBe(unknown.text);
      expect(wrong.body["mfa_required"]).toBeUndefined();
    });

    it("answers HTTP Basic probes identically too", async () => {
      const basic = (user: string): Promise<Reply> =>
        send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          headers: { authorization: `Basic ${Buffer.from(`${user}:guess-guess`).toString("base64")}` },
        });
      const [unknown, wrong] = [await basic("nobody-at-all"), await basic("known")];
      expect(unknown.status).toBe(401);
      expect(unknown.text).toBe(wrong.text);
    });

    it("verifies a dummy hash for an unknown user, and not for a known one", async () => {
      const hasher = t.app.services.hasher;
      const dummy = vi.spyOn(hasher, "verifyDummy");
      const real = vi.spyOn(hasher, "verify");
      try {
        await attempt("nobody-at-all", "some password guess");
        expect(dummy).toHaveBeenCalledTimes(1);
        expect(real).not.toHaveBeenCalled();
        await attempt("known", "some password guess");
        expect(dummy).toHaveBeenCalledTimes(1);
        expect(real).toHaveBeenCalledTimes(1);
      } finally {
        dummy.mockRestore();
        real.mockRestore();
      }
    });

    it("takes about as long for an unknown user as for a wrong password (medians within a factor of 3)", async () => {
      const timed = async (username: string): Promise<number> => {
        const start = performance.now();
        const res = await attempt(username, "some password guess");
        expect(res.status).toBe(401);
        return performance.now() - start;
      };
      // Warm up both paths (JIT, connection pool, the dummy hash's first computation).
      for (let i = 0; i < 3; i++) {
        await timed("nobody-at-all");
        await timed("known");
      }
      const unknown: number[] = [];
      const wrong: number[] = [];
      // Interleaved, so a slow moment of the machine hits both series alike.
      for (let i = 0; i < 10; i++) {
        unknown.push(await timed(`nobody-${i}`));
        wrong.push(await timed("known"));
      }
      const [u, w] = [median(unknown), median(wrong)];
      const ratio = Math.max(u, w) / Math.min(u, w);
      expect(ratio, `median unknown ${u.toFixed(2)} ms, wrong password ${w.toFixed(2)} ms`).toBeLessThan(3);
    });

    it("registers with an address already on another account with the same reply as with a fresh one", async () => {
      const taken = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "copycat", password: strongPassword, email: "known@example.com" },
      });
      const fresh = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "original", password: strongPassword, email: "fresh@example.com" },
      });
      expect(taken.status).toBe(201);
      expect(fresh.status).toBe(201);
      const shape = (res: Reply): unknown => {
        const { id: _id, username: _username, email, ...rest } = res.body["user"] as Json;
        return { keys: Object.keys(res.body).sort(), user: rest, emailShown: typeof email === "string" };
      };
      expect(shape(taken)).toEqual(shape(fresh));
      expect((taken.body["user"] as Json)["email"]).toBe("known@example.com");
    });

    it("does reveal a taken username at registration, as the spec allows, and nothing else", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "known", password: strongPassword },
      });
      expectError(res, 409, "user_exists");
      expect(JSON.stringify(res.body)).not.toMatch(/known@example\.com/);
    });
  });
}
