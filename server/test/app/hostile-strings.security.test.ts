/*
 * Attack: hostile Unicode as a denial-of-service and error-oracle probe. NUL bytes, lone surrogates,
 * RTL overrides, 10k-character strings and emoji in usernames, passwords, emails, tokens and codes
 * must each get a 4xx in the `{ error: { code, message } }` shape (or a quiet success where the
 * value is acceptable) — never a 5xx, never a crash.
 */
import { describe, expect, it } from "vitest";
import { enrolledUser, loginToken, strongPassword } from "../support/accounts.js";
import type { TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { hostileStrings, useAppWithAlice } from "../support/hostile-input.js";
import { expectClientError, send } from "../support/http.js";

for (const dialect of testDialects()) {
  describe(`hostile strings never get a 5xx [${dialect.name}]`, () => {
    let t: TestApp;
    let token: string;
    useAppWithAlice(dialect, (app, aliceToken) => {
      t = app;
      token = aliceToken;
    });

    const post = (url: string, body: unknown, extra: { token?: string } = {}): ReturnType<typeof send> =>
      send(t.app, { method: "POST", url, body, ...extra });

    it.each(hostileStrings)("answers a username with %s with a 4xx on register and login", async (label, value) => {
      const registered = await post("/api/auth/register", { username: value, password: strongPassword });
      expectClientError(registered, `register ${label}`);
      // 409 where NFKC and trimming fold the value onto "alice" (fullwidth @, BOM), else 422.
      expect([409, 422]).toContain(registered.status);
      const loggedIn = await post("/api/auth/login", { username: value, password: "not the password" });
      expectClientError(loggedIn, `login ${label}`);
      expect([401, 422]).toContain(loggedIn.status);
    });

    it.each(hostileStrings)("answers a password with %s with a 2xx or 4xx, never a 5xx", async (label, value) => {
      const username = `pw${Math.floor(Math.random() * 1e9)}`;
      const registered = await post("/api/auth/register", { username, password: value });
      expect(registered.status, `register ${label}: ${registered.text}`).toBeLessThan(500);
      if (registered.status === 201) {
        // Whatever was accepted must also log in again.
        expect((await post("/api/auth/login", { username, password: value })).status, label).toBe(200);
      } else {
        expectClientError(registered, label);
      }
      const wrong = await post("/api/auth/login", { username: "alice", password: value });
      expectClientError(wrong, label);
      expect([401, 422]).toContain(wrong.status);
    });

    it.each(hostileStrings)(
      "answers an email with %s with a 4xx or a quiet success, never a 5xx",
      async (label, value) => {
        const registered = await post("/api/auth/register", {
          username: `em${Math.floor(Math.random() * 1e9)}`,
          password: strongPassword,
          email: value,
        });
        expect(registered.status, `${label}: ${registered.text}`).toBeLessThan(500);
        expect(
          (await post("/api/auth/login", { username: `${value}@example.com`, password: strongPassword })).status,
          label,
        ).toBeLessThan(500);
      },
    );

    it.each(hostileStrings)("answers hostile tokens and codes (%s) with a 4xx", async (label, value) => {
      expectClientError(await post("/api/auth/token/refresh", { refresh_token: value }), `refresh ${label}`);
      expectClientError(await post("/api/auth/2fa/login", { login_token: value, code: value }), `2fa ${label}`);
      // Percent-encode the UTF-8 bytes by hand: encodeURIComponent throws on lone surrogates.
      const path = [...Buffer.from(value.slice(0, 60), "utf8")]
        .map((byte) => `%${byte.toString(16).padStart(2, "0")}`)
        .join("");
      expectClientError(
        await send(t.app, { method: "DELETE", url: `/api/auth/sessions/${path}`, token }),
        `sessions ${label}`,
      );
      const me = await send(t.app, {
        method: "GET",
        url: "/api/user/me",
        headers: { authorization: `Bearer ${value}`.replace(/[\r\n]/g, "") },
      });
      expect(me.status, label).toBe(401);
    });

    it("answers hostile codes inside a real login challenge with a 4xx", async () => {
      const { secret } = await enrolledUser(t.app, t.clock, "coded");
      expect(secret).toBeTruthy();
      for (const [label, value] of hostileStrings) {
        const challenge = await loginToken(t.app, "coded");
        expectClientError(
          await post("/api/auth/2fa/login", { login_token: challenge, code: value.slice(0, 64) }),
          label,
        );
        expectClientError(
          await post("/api/auth/2fa/login", { login_token: challenge, recovery_code: value.slice(0, 64) }),
          label,
        );
        await t.app.services.lockout.reset(
          (await t.db.selectFrom("user").select("id").where("username", "=", "coded").executeTakeFirstOrThrow()).id,
        );
      }
    });
  });
}
