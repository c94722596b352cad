/*
 * The site-wide session cookie `tessera_session` (SPEC "Other applications sign in through Tessera"):
 * `sid.HMAC` under the site cookie's own key, read by forward-auth and the OIDC provider to know who is signed
 * in. Attacks: a forged or altered cookie (someone else's session id under a made-up MAC, a MAC moved to
 * another id, a cookie signed by another installation's key), a cookie outliving its session (logout,
 * revocation from another device, expiry, a second factor turned on), a cookie the browser would share
 * with the wrong sites (attributes).
 */
import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { siteCookieValue, siteSession } from "../../src/modules/session/session.cookies.js";
import { appOn, type TestApp } from "../support/app.js";
import { claimsOf, register, strongPassword, totpCode, uniqueName } from "../support/accounts.js";
import { cookie } from "../support/cookies.js";
import { call, send, str, type Reply } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

/** What forward-auth and the OIDC provider do with a request carrying `value` as the cookie. */
async function resolve(t: TestApp, value: string | undefined): Promise<{ userId: string; aal: number } | null> {
  const request = {
    cookies: value === undefined ? {} : { tessera_session: value },
    server: t.app,
  } as unknown as FastifyRequest;
  const auth = await siteSession(request, t.app.services.sessions);
  return auth === null ? null : { userId: auth.userId, aal: auth.aal };
}

async function browserLogin(t: TestApp, username: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await send(t.app, {
    method: "POST",
    url: "/api/auth/login",
    body: { username, password: strongPassword },
    headers,
  });
  expect(res.status, res.text).toBe(200);
  return res;
}

const siteCookie = (res: Reply): string => cookie(res.headers, "tessera_session").value;

for (const dialect of testDialects()) {
  describe(`site-wide session cookie [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { COOKIE_DOMAIN: "tessera.test", TRUST_PROXY: "127.0.0.1" } });
    });
    afterAll(async () => t.close());

    async function signedIn(
      prefix: string,
    ): Promise<{ name: string; userId: string; res: Reply; value: string; sid: string }> {
      const name = uniqueName(prefix);
      const { userId } = await register(t.app, name);
      const res = await browserLogin(t, name);
      return { name, userId, res, value: siteCookie(res), sid: claimsOf(str(res.body["access_token"])).sid };
    }

    it("is set at login: sid and MAC, httpOnly, SameSite=Lax, path /, Domain=COOKIE_DOMAIN", async () => {
      const { userId, res, value, sid } = await signedIn("attrs");
      const set = cookie(res.headers, "tessera_session");
      expect(set.attributes.has("httponly")).toBe(true);
      expect(set.attributes.get("samesite")).toBe("Lax");
      expect(set.attributes.get("path")).toBe("/");
      expect(set.attributes.get("domain")).toBe("tessera.test");
      expect(set.attributes.has("secure")).toBe(false);
      expect(value.startsWith(`${sid}.`)).toBe(true);
      expect(await resolve(t, value)).toEqual({ userId, aal: 1 });
    });

    it("is Secure behind a trusted HTTPS proxy", async () => {
      const name = uniqueName("https");
      await register(t.app, name);
      const res = await browserLogin(t, name, { "x-forwarded-proto": "https" });
      expect(cookie(res.headers, "tessera_session").attributes.has("secure")).toBe(true);
    });

    it("refuses a forged cookie: the victim's session id under a made-up MAC, or with none", async () => {
      const { value, sid } = await signedIn("forged");
      const mac = value.slice(sid.length + 1);
      expect(await resolve(t, sid)).toBeNull();
      expect(await resolve(t, `${sid}.`)).toBeNull();
      expect(await resolve(t, `${sid}.${"A".repeat(mac.length)}`)).toBeNull();
      const flipped = mac.startsWith("A") ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
      expect(await resolve(t, `${sid}.${flipped}`)).toBeNull();
      expect(await resolve(t, "")).toBeNull();
      expect(await resolve(t, undefined)).toBeNull();
    });

    it("refuses a tampered cookie: the attacker's own MAC moved onto the victim's session id", async () => {
      const victim = await signedIn("victim");
      const attacker = await signedIn("attacker");
      const mac = attacker.value.slice(attacker.sid.length + 1);
      expect(await resolve(t, `${victim.sid}.${mac}`)).toBeNull();
      // The attacker's own cookie still names only the attacker.
      expect(await resolve(t, attacker.value)).toEqual({ userId: attacker.userId, aal: 1 });
    });

    it("refuses a cookie signed with another installation's key", async () => {
      const { userId, value, sid } = await signedIn("other-key");
      const other = await appOn(dialect);
      try {
        const foreign = siteCookieValue(other.app.siteCookieKey, sid);
        expect(foreign).not.toBe(value);
        expect(await resolve(t, foreign)).toBeNull();
        expect(await resolve(t, value)).toEqual({ userId, aal: 1 });
      } finally {
        await other.close();
      }
    });

    it("refuses the cookie at once once its session is revoked from another device", async () => {
      const { name, userId, value, sid } = await signedIn("revoked");
      // Read twice: a SQLite file now serves this session from memory.
      expect(await resolve(t, value)).toEqual({ userId, aal: 1 });
      expect(await resolve(t, value)).toEqual({ userId, aal: 1 });
      const other = await browserLogin(t, name);
      const token = str(other.body["access_token"]);
      expect((await call(t.app, "DELETE", `/api/auth/sessions/${sid}`, { token })).status).toBe(204);
      expect(await resolve(t, value)).toBeNull();
      expect(await resolve(t, siteCookie(other))).toEqual({ userId, aal: 1 });
    });

    it("logout revokes the session and clears the cookie on COOKIE_DOMAIN", async () => {
      const { res, value } = await signedIn("logout");
      const csrf = cookie(res.headers, "tessera_csrf").value;
      const refresh = cookie(res.headers, "tessera_refresh").value;
      const out = await send(t.app, {
        method: "POST",
        url: "/api/auth/logout",
        cookies: { tessera_refresh: refresh, tessera_csrf: csrf, tessera_session: value },
        headers: { "x-csrf-token": csrf },
      });
      expect(out.status, out.text).toBe(204);
      const cleared = cookie(out.headers, "tessera_session");
      expect(cleared.value).toBe("");
      expect(cleared.attributes.get("domain")).toBe("tessera.test");
      expect(cleared.attributes.get("path")).toBe("/");
      expect(Date.parse(cleared.attributes.get("expires") ?? "")).toBeLessThan(Date.now());
      expect(await resolve(t, value)).toBeNull();
    });

    it("is renewed with the same session at a refresh, and dies when the session expires", async () => {
      const { res, value } = await signedIn("expiry");
      const csrf = cookie(res.headers, "tessera_csrf").value;
      const refreshed = await send(t.app, {
        method: "POST",
        url: "/api/auth/token/refresh",
        cookies: { tessera_refresh: cookie(res.headers, "tessera_refresh").value, tessera_csrf: csrf },
        headers: { "x-csrf-token": csrf },
      });
      expect(refreshed.status, refreshed.text).toBe(200);
      expect(siteCookie(refreshed)).toBe(value);
      t.clock.advance(t.config.refreshTokenTtlSeconds + 1);
      expect(await resolve(t, value)).toBeNull();
    });

    it("names the new aal-2 session once a second factor is turned on, and the old one no longer works", async () => {
      const name = uniqueName("step-up");
      const { userId } = await register(t.app, name);
      const before = await browserLogin(t, name);
      const token = str(before.body["access_token"]);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
      const confirm = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/verify-setup",
        token,
        body: { code: totpCode(str(setup.body["secret"]), t.clock) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      expect(await resolve(t, siteCookie(confirm))).toEqual({ userId, aal: 2 });
      expect(await resolve(t, siteCookie(before))).toBeNull();
    });
  });
}

describe("COOKIE_DOMAIN", () => {
  const load = (domain: string, publicUrl = "https://auth.example.com") =>
    loadConfig({ PUBLIC_URL: publicUrl, COOKIE_DOMAIN: domain, DATA_DIR: "/tmp/tessera-cookie-domain" });

  it("accepts PUBLIC_URL's host or a domain above it, lower-cased, without a leading dot", () => {
    expect(load("example.com").cookieDomain).toBe("example.com");
    expect(load(".Example.COM").cookieDomain).toBe("example.com");
    expect(load("auth.example.com").cookieDomain).toBe("auth.example.com");
    expect(loadConfig({ DATA_DIR: "/tmp/tessera-cookie-domain" }).cookieDomain).toBeNull();
  });

  it("refuses a domain the browser would drop or that would share the cookie too widely, naming it", () => {
    expect(() => load("other.org")).toThrow(/COOKIE_DOMAIN: must be the host of PUBLIC_URL \(auth\.example\.com\)/);
    expect(() => load("ample.com")).toThrow(/COOKIE_DOMAIN/);
    expect(() => load("com")).toThrow(/COOKIE_DOMAIN: a top-level name/);
    expect(() => load("exa mple.com")).toThrow(/COOKIE_DOMAIN: must be a domain name/);
    expect(() => load("-bad.example.com")).toThrow(/COOKIE_DOMAIN: must be a domain name/);
    expect(() => load("127.0.0.1", "http://127.0.0.1:8000")).toThrow(/COOKIE_DOMAIN: must be a domain name/);
  });
});
