/*
 * Attacks on forward-auth's redirects and on what it believes: an `rd` that sends a freshly signed-in
 * browser to the attacker's site (open redirect), proxy headers forged by a client that is not the proxy,
 * and paths written to slip past a rule (`/%63losed`, `//closed`, `/x/../closed`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowedReturnUrl } from "../../src/modules/forward-auth/return-url.js";
import { normalizedPath } from "../../src/modules/forward-auth/forward-auth.service.js";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword } from "../support/accounts.js";
import { cookie } from "../support/cookies.js";
import { check, forwardAuthEnv, loginFor } from "../support/forward-auth.js";
import { expectError, send } from "../support/http.js";
import { sqliteDialect } from "../support/dialects.js";

const scope = { publicUrl: "http://tessera.test", cookieDomain: "tessera.test" };

const hostile = [
  "https://evil.example/",
  "//evil.example/",
  "/\\evil.example/",
  "http://tessera.test.evil.example/",
  "http://eviltessera.test/",
  "http://evil.example#.tessera.test",
  "http://evil.example?.tessera.test",
  "http://evil.example%2f.tessera.test/",
  "http://app.tessera.test\\@evil.example/",
  "http:\\\\evil.example\\",
  "\thttp://evil.example/",
  "http://app.tessera.test\n.evil.example/",
  "http://user:pass@app.tessera.test/",
  "javascript:alert(document.cookie)//.tessera.test",
  "data:text/html,<script>alert(1)</script>",
  "ftp://app.tessera.test/",
  "/profile",
  "",
];

describe("return URLs after sign-in (no open redirect)", () => {
  it("accepts PUBLIC_URL's host and hosts under COOKIE_DOMAIN, any port, as the parser serializes them", () => {
    expect(allowedReturnUrl("http://app.tessera.test/x?y=1#z", scope)?.href).toBe("http://app.tessera.test/x?y=1#z");
    expect(allowedReturnUrl("http://a.b.tessera.test:8080/", scope)?.href).toBe("http://a.b.tessera.test:8080/");
    expect(allowedReturnUrl("HTTP://APP.Tessera.TEST/x", scope)?.href).toBe("http://app.tessera.test/x");
    expect(allowedReturnUrl("http://tessera.test/profile", scope)?.href).toBe("http://tessera.test/profile");
  });

  it.each(hostile)("refuses %j", (raw) => {
    expect(allowedReturnUrl(raw, scope)).toBeNull();
  });

  it("refuses plain http behind an https PUBLIC_URL, and any other host without COOKIE_DOMAIN", () => {
    const https = { publicUrl: "https://auth.example.com", cookieDomain: "example.com" };
    expect(allowedReturnUrl("http://app.example.com/", https)).toBeNull();
    expect(allowedReturnUrl("https://app.example.com/", https)?.href).toBe("https://app.example.com/");
    const hostOnly = { publicUrl: "https://auth.example.com", cookieDomain: null };
    expect(allowedReturnUrl("https://app.example.com/", hostOnly)).toBeNull();
    expect(allowedReturnUrl("https://auth.example.com/apps", hostOnly)?.href).toBe("https://auth.example.com/apps");
  });
});

describe("forward-auth attacks", () => {
  let t: TestApp;
  let session = "";
  beforeAll(async () => {
    t = await appOn(sqliteDialect, { env: forwardAuthEnv() });
    await register(t.app, "victim");
    const res = await send(t.app, {
      method: "POST",
      url: "/api/auth/login",
      body: { username: "victim", password: strongPassword },
    });
    session = cookie(res.headers, "tessera_session").value;
  });
  afterAll(async () => t.close());

  it.each(hostile)("never redirects to rd=%j, and the return-url check refuses it", async (rd) => {
    const direct = await send(t.app, { method: "GET", url: `/api/forward-auth?rd=${encodeURIComponent(rd)}` });
    expect(direct.headers["location"]).toBeUndefined();
    expect(direct.status).toBe(422);
    const proxied = await send(t.app, {
      method: "GET",
      url: `/api/forward-auth?rd=${encodeURIComponent(rd)}`,
      headers: { "x-original-url": "http://app.tessera.test/page" },
    });
    expect(proxied.status).toBe(401);
    expect(proxied.headers["location"]).toBe(loginFor("http://app.tessera.test/page"));
    const asked = await send(t.app, {
      method: "GET",
      url: `/api/forward-auth/return-url?rd=${encodeURIComponent(rd)}`,
    });
    expectError(asked, 422, "validation_failed");
  });

  it("does not send the login screen back to a proxied site outside COOKIE_DOMAIN", async () => {
    const res = await check(t, "http://app.elsewhere.example/", { style: "nginx" });
    expect(res.status).toBe(403); // no rule names it: default deny, and no redirect either way
    const rules = await check(t, "http://app.elsewhere.example/", { session });
    expect(rules.headers["location"]).toBeUndefined();
  });

  it("ignores X-Original-URL and X-Forwarded-* from a client that is not in TRUST_PROXY", async () => {
    const spoofed = await check(t, "http://app.tessera.test/", { session, remoteAddress: "203.0.113.9" });
    expectError(spoofed, 422, "validation_failed");
    expect(spoofed.headers["remote-user"]).toBeUndefined();
    const nginx = await check(t, "http://app.tessera.test/", { session, style: "nginx", remoteAddress: "203.0.113.9" });
    expectError(nginx, 422, "validation_failed");
  });

  it("refuses a proxy header that does not name one http(s) URL", async () => {
    const bad: Record<string, string>[] = [
      { "x-original-url": "javascript:alert(1)" },
      { "x-original-url": "/relative" },
      { "x-forwarded-proto": "https", "x-forwarded-host": "app.tessera.test, evil.example", "x-forwarded-uri": "/" },
      { "x-forwarded-proto": "https", "x-forwarded-host": "evil.example/@app.tessera.test", "x-forwarded-uri": "/" },
      { "x-forwarded-proto": "gopher", "x-forwarded-host": "app.tessera.test", "x-forwarded-uri": "/" },
      { "x-forwarded-proto": "https", "x-forwarded-host": "app.tessera.test", "x-forwarded-uri": "no-slash" },
    ];
    for (const headers of bad) {
      const cookies = { tessera_session: session };
      const res = await send(t.app, { method: "GET", url: "/api/forward-auth", headers, cookies });
      expectError(res, 422, "validation_failed");
    }
  });

  it.each([
    "/%63losed",
    "/%43losed/../closed",
    "//closed",
    "/x/../closed",
    "/./closed/",
    "/%2e%2e/closed",
    "/x/%2E%2E/closed",
  ])("applies the rule of /closed to %s", async (path) => {
    expectError(await check(t, `http://app.tessera.test${path}`, { session }), 403, "forbidden");
    expectError(await check(t, `http://app.tessera.test${path}`, { session, style: "nginx" }), 403, "forbidden");
  });

  it("normalizes only what means the same: encoded slashes and reserved characters stay", () => {
    expect(normalizedPath(new URL("http://h/a%2Fb/%3F/%7e"))).toBe("/a%2Fb/%3F/~");
    expect(normalizedPath(new URL("http://h//a///b/./c/../d"))).toBe("/a/b/d");
  });
});
