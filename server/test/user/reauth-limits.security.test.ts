/*
 * Attack: password guessing through the routes that re-check the password. A stolen access token
 * must not become an unlimited password oracle: wrong passwords on the password-change, deletion,
 * email-change and two-factor routes count per account against the same allowance as logins (20
 * in 15 minutes), and per IP. Every refusal is 429 `rate_limited` with `Retry-After`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, strongPassword, totpCode } from "../support/accounts.js";
import { expectError, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`password re-check limits [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { RATE_LIMIT: "on" } });
    });
    afterAll(async () => t.close());

    it("limits wrong passwords on the password-change and delete routes per account, as for login", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "token-thief", password: strongPassword },
        remoteAddress: "198.51.100.4",
      });
      const token = String(res.body["access_token"]);
      for (let i = 1; i <= 20; i++) {
        const route =
          i % 2 === 0
            ? {
                method: "POST" as const,
                url: "/api/user/password",
                body: { current_password: `guess number ${i}`, new_password: "a brand new passphrase" },
              }
            : { method: "DELETE" as const, url: "/api/user", body: { password: `guess number ${i}` } };
        expectError(await send(t.app, { ...route, token, remoteAddress: `172.16.0.${i}` }), 401, "invalid_credentials");
      }
      const blocked = await send(t.app, {
        method: "POST",
        url: "/api/user/password",
        token,
        body: { current_password: strongPassword, new_password: "a brand new passphrase" },
        remoteAddress: "172.16.1.1",
      });
      expectError(blocked, 429, "rate_limited");
      expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
      expectError(
        await send(t.app, {
          method: "DELETE",
          url: "/api/user",
          token,
          body: { password: strongPassword },
          remoteAddress: "172.16.1.2",
        }),
        429,
        "rate_limited",
      );
      // The account itself still works.
      expect((await send(t.app, { method: "GET", url: "/api/user/me", token })).status).toBe(200);
    });

    it("limits wrong passwords on /2fa/disable and /2fa/recovery-codes per account, by the same re-check", async () => {
      const { accessToken: token, secret } = await enrolledUser(t.app, t.clock, "disable-thief");
      for (let i = 1; i <= 20; i++) {
        const url = i % 2 === 0 ? "/api/auth/2fa/disable" : "/api/auth/2fa/recovery-codes";
        expectError(
          await send(t.app, {
            method: "POST",
            url,
            token,
            body: { password: `guess number ${i}`, code: "000000" },
            remoteAddress: `172.18.0.${i}`,
          }),
          401,
          "invalid_credentials",
        );
      }
      const blocked = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/disable",
        token,
        body: { password: strongPassword, code: totpCode(secret, t.clock) },
        remoteAddress: "172.18.1.1",
      });
      expectError(blocked, 429, "rate_limited");
      expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    });

    it("counts wrong passwords on the email-change route against the same per-account allowance", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "email-thief", password: strongPassword },
        remoteAddress: "198.51.100.6",
      });
      const token = String(res.body["access_token"]);
      for (let i = 1; i <= 20; i++) {
        expectError(
          await send(t.app, {
            method: "POST",
            url: "/api/user/email",
            token,
            body: { email: `new${i}@example.org`, password: `guess number ${i}` },
            remoteAddress: `172.19.0.${i}`,
          }),
          401,
          "invalid_credentials",
        );
      }
      const blocked = await send(t.app, {
        method: "POST",
        url: "/api/user/email",
        token,
        body: { email: "new@example.org", password: strongPassword },
        remoteAddress: "172.19.1.1",
      });
      expectError(blocked, 429, "rate_limited");
    });

    it("limits password re-checks per IP", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "reauth-ip", password: strongPassword },
        remoteAddress: "198.51.100.5",
      });
      const token = String(res.body["access_token"]);
      const answers: number[] = [];
      for (let i = 1; i <= 11; i++) {
        answers.push(
          (
            await send(t.app, {
              method: "POST",
              url: "/api/user/password",
              token,
              body: { current_password: `guess ${i} again`, new_password: "a brand new passphrase" },
              remoteAddress: "172.17.0.1",
            })
          ).status,
        );
      }
      expect(answers.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(answers[10]).toBe(429);
    });
  });
}
