/*
 * Attack: a planted CSRF token. The double-submit check only asks that the X-CSRF-Token header equal
 * the tessera_csrf cookie; an attacker who can set a cookie for this site (a sibling subdomain, an
 * http:// page on the same host, a shared browser) could plant a value of their choosing in both and
 * ride the victim's refresh cookie. So the value is a signed token bound to its session
 * (`sid.nonce.HMAC`): one the attacker made up fails the signature, one minted for the attacker's own
 * session (or another of the victim's) names the wrong session, and one signed by another server's
 * key fails too. Each is refused 403 on refresh and on logout, before the refresh token is used, so the
 * victim's session goes on untouched.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { claimsOf, register, strongPassword, uniqueName } from "../support/accounts.js";
import { expectError, send, type Reply } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

interface BrowserSession {
  refresh: string;
  csrf: string;
  sid: string;
}

function cookieValue(res: Reply, name: string): string {
  const found = res.raw.cookies.find((cookie) => cookie.name === name);
  if (found === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return decodeURIComponent(found.value);
}

for (const dialect of testDialects()) {
  describe(`CSRF tokens bound to the session [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    async function browserLogin(app: TestApp, username: string): Promise<BrowserSession> {
      const res = await send(app.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username, password: strongPassword },
      });
      expect(res.status, res.text).toBe(200);
      const sid = claimsOf(String(res.body["access_token"])).sid;
      return { refresh: cookieValue(res, "tessera_refresh"), csrf: cookieValue(res, "tessera_csrf"), sid };
    }

    /** A cookie-authenticated request with the victim's refresh cookie and `csrf` as both cookie and header. */
    const withCsrf = (url: string, refresh: string, csrf: string): Promise<Reply> =>
      send(t.app, {
        method: "POST",
        url,
        headers: {
          cookie: `tessera_refresh=${encodeURIComponent(refresh)}; tessera_csrf=${encodeURIComponent(csrf)}`,
          "x-csrf-token": csrf,
        },
      });

    /** Every planted value is refused on both routes, and the victim's own value still works afterwards. */
    async function expectRefusedEverywhere(victim: BrowserSession, planted: string): Promise<void> {
      for (const url of ["/api/auth/token/refresh", "/api/auth/logout"]) {
        const res = await withCsrf(url, victim.refresh, planted);
        expectError(res, 403, "forbidden");
        // Refused without touching the victim's cookies.
        expect(res.raw.cookies.map((cookie) => cookie.name)).toEqual([]);
      }
    }

    async function expectVictimUnharmed(victim: BrowserSession): Promise<void> {
      const res = await withCsrf("/api/auth/token/refresh", victim.refresh, victim.csrf);
      expect(res.status, res.text).toBe(200);
      expect(claimsOf(String(res.body["access_token"])).sid).toBe(victim.sid);
    }

    it("signs the value and binds it to the session: sid.nonce.mac", async () => {
      const name = uniqueName("shape");
      await register(t.app, name);
      const session = await browserLogin(t, name);
      const [sid, nonce, mac, ...rest] = session.csrf.split(".");
      expect(sid).toBe(session.sid);
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(mac).toMatch(/^[A-Za-z0-9+/]{43}$/);
      expect(rest).toEqual([]);
    });

    it("refuses the attacker's own valid CSRF token on the victim's refresh cookie", async () => {
      const victimName = uniqueName("victim");
      const attackerName = uniqueName("attacker");
      await register(t.app, victimName);
      await register(t.app, attackerName);
      const victim = await browserLogin(t, victimName);
      const attacker = await browserLogin(t, attackerName);
      await expectRefusedEverywhere(victim, attacker.csrf);
      await expectVictimUnharmed(victim);
      // The attacker's token still works for the attacker's own session: the refusal is the binding, not the value.
      expect((await withCsrf("/api/auth/token/refresh", attacker.refresh, attacker.csrf)).status).toBe(200);
    });

    it("refuses a CSRF token of another of the victim's own sessions, also an ended one", async () => {
      const name = uniqueName("twosessions");
      await register(t.app, name);
      const older = await browserLogin(t, name);
      const victim = await browserLogin(t, name);
      await expectRefusedEverywhere(victim, older.csrf);
      expect((await withCsrf("/api/auth/logout", older.refresh, older.csrf)).status).toBe(204);
      await expectRefusedEverywhere(victim, older.csrf);
      await expectVictimUnharmed(victim);
    });

    it("refuses made-up values: the victim's sid with a forged or missing MAC, an unsigned random value", async () => {
      const name = uniqueName("forged");
      await register(t.app, name);
      const victim = await browserLogin(t, name);
      const [sid, nonce] = victim.csrf.split(".");
      const forged = [
        `${sid}.${nonce}.${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
        `${sid}.${nonce}`,
        `${sid}.${randomBytes(16).toString("base64url")}.${victim.csrf.split(".")[2]}`,
        randomBytes(16).toString("base64url"),
        `${victim.csrf}x`,
        ".",
      ];
      for (const value of forged) await expectRefusedEverywhere(victim, value);
      await expectVictimUnharmed(victim);
    });

    it("refuses a CSRF token signed by another server's key for the same session id", async () => {
      const name = uniqueName("otherkey");
      await register(t.app, name);
      const victim = await browserLogin(t, name);
      // Another Tessera (its own TESSERA_SECRET_KEY) mints a well-formed token; the attacker renames its sid.
      const other = await appOn(dialect);
      try {
        await register(other.app, name);
        const foreign = await browserLogin(other, name);
        const [, nonce, mac] = foreign.csrf.split(".");
        await expectRefusedEverywhere(victim, foreign.csrf);
        await expectRefusedEverywhere(victim, `${victim.sid}.${nonce}.${mac}`);
      } finally {
        await other.close();
      }
      await expectVictimUnharmed(victim);
    });

    it("keeps a session's CSRF token valid across its refreshes: a tab holding the older value goes on", async () => {
      const name = uniqueName("tabs");
      await register(t.app, name);
      const first = await browserLogin(t, name);
      const rotated = await withCsrf("/api/auth/token/refresh", first.refresh, first.csrf);
      expect(rotated.status).toBe(200);
      const refresh = cookieValue(rotated, "tessera_refresh");
      expect(cookieValue(rotated, "tessera_csrf")).not.toBe(first.csrf);
      expect((await withCsrf("/api/auth/token/refresh", refresh, first.csrf)).status).toBe(200);
    });
  });
}
