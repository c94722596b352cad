/*
 * Attacks on emailed links (SPEC §2 Email, §3):
 * - replaying a used link, or using one after it expired (a link found later in a mailbox or a log);
 * - using a link for another purpose than it was sent for (a verification link as a sign-in link);
 * - using an older link after a newer one was sent, or a link mailed to an address the account no
 *   longer has;
 * - reading tokens from a copy of the database (they are stored as SHA-256 hashes only);
 * - host-header poisoning: a forged Host header must not put the attacker's host into the mailed link;
 * - account enumeration through the answers of the "send me a link" routes (status, body, headers);
 * - skipping the second factor through a magic link, even from a remembered browser.
 * Mail bombing is in link-limits.security.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { loginToken, strongPassword, totpCode } from "../support/accounts.js";
import { call, errorCode, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import {
  lastMailTo,
  linkToken,
  mailSettled,
  type LinkPath,
  useMailApp,
  verifiedEnrolledUser,
  verifiedUser,
} from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

type Use = (token: string) => Promise<{ status: number; body: Record<string, unknown> }>;

for (const dialect of testDialects()) {
  describe(`emailed links resist replay, expiry, confusion and enumeration [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    const useVerify: Use = (token) => call(t.app, "POST", "/api/auth/email/verify", { body: { token } });
    const useMagic: Use = (token) => call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token } });
    const useReset: Use = (token) =>
      call(t.app, "POST", "/api/auth/password/reset", { body: { token, new_password: "a fresh passphrase 99" } });
    const useDelete: Use = (token) => call(t.app, "POST", "/api/user/delete-confirm", { body: { token } });

    const expectInvalid = (res: { status: number; body: Record<string, unknown> }, what: string): void => {
      expect(res.status, what).toBe(400);
      expect(errorCode(res.body), what).toBe("invalid_token");
    };

    /** Asks for a link of each kind for a verified account and returns the tokens. */
    async function freshLinks(username: string): Promise<Record<LinkPath, string> & { accessToken: string }> {
      const email = `${username}@example.org`;
      const { accessToken } = await verifiedUser(t, sink, username, email);
      await call(t.app, "POST", "/api/user/email", { token: accessToken, body: { email, password: strongPassword } });
      const verify = linkToken(await lastMailTo(t, sink, email), "/verify-email");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email } });
      const magic = linkToken(await lastMailTo(t, sink, email), "/magic-link");
      await call(t.app, "POST", "/api/auth/password/forgot", { body: { email } });
      const reset = linkToken(await lastMailTo(t, sink, email), "/reset-password");
      await call(t.app, "POST", "/api/user/delete-request", { token: accessToken });
      const del = linkToken(await lastMailTo(t, sink, email), "/delete-account");
      return {
        "/verify-email": verify,
        "/magic-link": magic,
        "/reset-password": reset,
        "/delete-account": del,
        accessToken,
      };
    }

    it("refuses a link on any route but its own, and the refusal does not use the link up", async () => {
      const links = await freshLinks("confused");
      const routes: [LinkPath, Use][] = [
        ["/verify-email", useVerify],
        ["/magic-link", useMagic],
        ["/reset-password", useReset],
        ["/delete-account", useDelete],
      ];
      for (const [path, token] of Object.entries(links)) {
        for (const [routePath, use] of routes) {
          if (routePath !== path && path !== "accessToken")
            expectInvalid(await use(token), `${path} link on ${routePath}`);
        }
      }
      expect((await useVerify(links["/verify-email"])).status).toBe(200);
      expect((await useMagic(links["/magic-link"])).status).toBe(200);
      expect((await useReset(links["/reset-password"])).status).toBe(200);
      expect((await useDelete(links["/delete-account"])).status).toBe(204);
    });

    it("refuses every link a second time", async () => {
      const links = await freshLinks("replayer");
      const uses: [string, Use][] = [
        [links["/verify-email"], useVerify],
        [links["/magic-link"], useMagic],
        [links["/reset-password"], useReset],
        [links["/delete-account"], useDelete],
      ];
      for (const [token, use] of uses) {
        expect((await use(token)).status).toBeLessThan(300);
        expectInvalid(await use(token), "second use");
      }
    });

    it("lets exactly one of several parallel uses of a link win", async () => {
      await verifiedUser(t, sink, "racer", "racer@example.org");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "racer@example.org" } });
      const token = linkToken(await lastMailTo(t, sink, "racer@example.org"), "/magic-link");
      const results = await Promise.all(Array.from({ length: 6 }, () => useMagic(token)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    });

    it("lets each link live exactly its lifetime: verify 24 h, sign in 15 min, reset or delete 30 min", async () => {
      const cases: [LinkPath, Use, number][] = [
        ["/verify-email", useVerify, 24 * 60 * 60],
        ["/magic-link", useMagic, 15 * 60],
        ["/reset-password", useReset, 30 * 60],
        ["/delete-account", useDelete, 30 * 60],
      ];
      for (const [path, use, lifetimeInSeconds] of cases) {
        const stale = await freshLinks(`stale${path.slice(1, 4)}`);
        const fresh = await freshLinks(`fresh${path.slice(1, 4)}`);
        t.clock.advance(lifetimeInSeconds - 1);
        expect((await use(fresh[path])).status, `${path} one second before expiry`).toBeLessThan(300);
        t.clock.advance(1);
        expectInvalid(await use(stale[path]), `${path} at expiry`);
      }
    });

    it("kills an older link when a newer one of the same purpose is sent", async () => {
      await verifiedUser(t, sink, "twice", "twice@example.org");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "twice@example.org" } });
      const older = linkToken(await lastMailTo(t, sink, "twice@example.org"), "/magic-link");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "twice@example.org" } });
      const newer = linkToken(await lastMailTo(t, sink, "twice@example.org"), "/magic-link");
      expect(newer).not.toBe(older);
      expectInvalid(await useMagic(older), "older magic link");
      expect((await useMagic(newer)).status).toBe(200);
    });

    it("kills sign-in and reset links mailed to an address once the account moved to another", async () => {
      const links = await freshLinks("mover");
      await call(t.app, "POST", "/api/user/email", {
        token: links.accessToken,
        body: { email: "mover.new@example.org", password: strongPassword },
      });
      expect(
        (await useVerify(linkToken(await lastMailTo(t, sink, "mover.new@example.org"), "/verify-email"))).status,
      ).toBe(200);
      expectInvalid(await useMagic(links["/magic-link"]), "magic link to the old address");
      expectInvalid(await useReset(links["/reset-password"]), "reset link to the old address");
      expectInvalid(await useDelete(links["/delete-account"]), "deletion link to the old address");
    });

    it("stores 256-bit tokens only as hashes", async () => {
      const links = await freshLinks("hashed");
      const rows = await t.db.selectFrom("link_token").selectAll().execute();
      const stored = JSON.stringify(rows);
      for (const path of ["/verify-email", "/magic-link", "/reset-password", "/delete-account"] as const) {
        expect(links[path]).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
        expect(stored).not.toContain(links[path]);
      }
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_hash))).toBe(true);
    });

    it("builds links from PUBLIC_URL, whatever Host header the request carried", async () => {
      await verifiedUser(t, sink, "hosted", "hosted@example.org");
      await call(t.app, "POST", "/api/auth/password/forgot", {
        body: { email: "hosted@example.org" },
        headers: { host: "evil.example", "x-forwarded-host": "evil.example" },
      });
      const mail = await lastMailTo(t, sink, "hosted@example.org");
      expect(mail.text).not.toContain("evil.example");
      expect(mail.html).not.toContain("evil.example");
      linkToken(mail, "/reset-password");
    });

    it("answers a known, an unverified and an unknown address alike, and mails only the verified one", async () => {
      await verifiedUser(t, sink, "known", "known@example.org");
      await call(t.app, "POST", "/api/auth/register", {
        body: { username: "halfway", password: strongPassword, email: "halfway@example.org" },
      });
      await mailSettled(t);
      const before = sink.messages.length;
      for (const route of ["/api/auth/magic-link", "/api/auth/password/forgot"]) {
        const answers = [];
        for (const email of ["known@example.org", "halfway@example.org", "nobody@example.org"]) {
          const res = await call(t.app, "POST", route, { body: { email } });
          const { date: _date, ...headers } = res.headers;
          answers.push({ status: res.status, body: res.raw.body, headers });
        }
        expect(answers[1], route).toEqual(answers[0]);
        expect(answers[2], route).toEqual(answers[0]);
      }
      await mailSettled(t);
      expect(sink.messages.slice(before).map((m) => m.to)).toEqual([["known@example.org"], ["known@example.org"]]);
    });

    it("skips no second factor: a two-factor account's link gives a challenge, remembered browser or not", async () => {
      const { secret } = await verifiedEnrolledUser(t, sink, "guarded", "guarded@example.org");
      const remembered = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: {
          login_token: await loginToken(t.app, "guarded"),
          code: totpCode(secret, t.clock),
          remember_device: true,
        },
      });
      const cookie = String(remembered.headers["set-cookie"]).match(/tessera_device=[^;]+/)?.[0] ?? "";
      expect(cookie).not.toBe("");
      await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "guarded@example.org" } });
      const token = linkToken(await lastMailTo(t, sink, "guarded@example.org"), "/magic-link");
      const res = await call(t.app, "POST", "/api/auth/magic-link/verify", { body: { token }, headers: { cookie } });
      expect(res.status).toBe(200);
      expect(res.body["mfa_required"]).toBe(true);
      expect(res.body["access_token"]).toBeUndefined();
      // The login token is useless as a bearer token.
      expect((await call(t.app, "GET", "/api/user/me", { token: str(res.body["login_token"]) })).status).toBe(401);
    });
  });
}
