/*
 * The HTTP headers of every answer (plugins/security-headers.ts, SPEC §1): API answers carry a CSP
 * that loads nothing, nosniff, frame-deny and no-store; the web UI's pages and Swagger UI get the
 * document set with a CSP for our own scripts only; HSTS only over HTTPS from a trusted proxy, CORS
 * only for configured origins.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`HTTP headers [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("sends API headers on API and ops answers: CSP loading nothing, nosniff, frame-deny, no-store", async () => {
      for (const url of ["/healthz", "/api/user/me", "/openapi.json"]) {
        const res = await send(t.app, { method: "GET", url });
        const csp = String(res.headers["content-security-policy"]);
        expect(csp, url).toMatch(/default-src 'none'/);
        expect(csp, url).toMatch(/frame-ancestors 'none'/);
        expect(res.headers["x-content-type-options"], url).toBe("nosniff");
        expect(res.headers["x-frame-options"], url).toBe("DENY");
        expect(res.headers["cache-control"], url).toBe("no-store");
        expect(res.headers["cross-origin-resource-policy"], url).toBe("same-origin");
      }
      // Public keys may be cached by the apps that verify tokens.
      expect((await send(t.app, { method: "GET", url: "/.well-known/jwks.json" })).headers["cache-control"]).toBe(
        "public, max-age=300",
      );
    });

    it("sends no-store on token responses (RFC 6749 §5.1)", async () => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        body: { username: "nostore-user", password: strongPassword },
      });
      expect(res.status).toBe(201);
      expect(res.body["access_token"]).toEqual(expect.any(String));
      expect(res.headers["cache-control"]).toBe("no-store");
    });

    it("sends the document headers on Swagger UI's page", async () => {
      const res = await send(t.app, { method: "GET", url: "/docs/" });
      expect(res.status).toBe(200);
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin");
      expect(String(res.headers["content-security-policy"])).toMatch(/object-src 'none'/);
    });

    it("sends nosniff and frame-deny on every kind of answer: 401, 404, 422, 415 and a malformed URL", async () => {
      const answers = [
        await send(t.app, { method: "GET", url: "/api/user/me" }),
        await send(t.app, { method: "GET", url: "/no/such/page.php" }),
        await send(t.app, { method: "POST", url: "/api/auth/login", body: { username: 1 } }),
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          payload: "x",
          headers: { "content-type": "text/plain" },
        }),
        await send(t.app, { method: "GET", url: "/api/auth/sessions/%ED%A0%80" }),
      ];
      expect(answers.map((res) => res.status)).toEqual([401, 404, 422, 415, 422]);
      for (const res of answers) {
        expect(res.headers["x-content-type-options"], String(res.status)).toBe("nosniff");
        expect(res.headers["x-frame-options"], String(res.status)).toBe("DENY");
        expect(String(res.headers["content-security-policy"]), String(res.status)).toMatch(/frame-ancestors 'none'/);
        expect(typeof (res.body["error"] as { code?: unknown } | undefined)?.code).toBe("string");
      }
    });

    it("sends no HSTS over plain http, and ignores X-Forwarded-Proto from an untrusted peer", async () => {
      expect(
        (await send(t.app, { method: "GET", url: "/healthz" })).headers["strict-transport-security"],
      ).toBeUndefined();
      const spoofed = await send(t.app, { method: "GET", url: "/healthz", headers: { "x-forwarded-proto": "https" } });
      expect(spoofed.headers["strict-transport-security"]).toBeUndefined();
    });

    it("gives a disallowed Origin no Access-Control-Allow-Origin", async () => {
      const simple = await send(t.app, { method: "GET", url: "/healthz", headers: { origin: "https://evil.example" } });
      expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
      const preflight = await send(t.app, {
        method: "OPTIONS",
        url: "/api/auth/login",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
      expect(preflight.headers["access-control-allow-credentials"]).toBeUndefined();
    });
  });

  describe(`web UI pages and assets [${dialect.name}]`, () => {
    let t: TestApp;
    let dist: string;
    beforeAll(async () => {
      dist = mkdtempSync(join(tmpdir(), "tessera-web-"));
      mkdirSync(join(dist, "assets"));
      writeFileSync(join(dist, "index.html"), "<!doctype html><title>Tessera</title><div id=app></div>");
      writeFileSync(join(dist, "assets", "app-1a2b3c.js"), "console.log(1)");
      t = await appOn(dialect, { webDist: dist });
    });
    afterAll(async () => {
      await t.close();
      rmSync(dist, { recursive: true, force: true });
    });

    it("sends document headers, a CSP for our own scripts only, on the page and its client-side routes", async () => {
      for (const url of ["/", "/settings/security", "/index.html"]) {
        const res = await send(t.app, { method: "GET", url });
        expect(res.status, url).toBe(200);
        expect(String(res.headers["content-type"]), url).toMatch(/^text\/html/);
        const csp = String(res.headers["content-security-policy"]);
        expect(csp, url).toMatch(/default-src 'self'/);
        expect(csp, url).toMatch(/script-src 'self'(;|$)/);
        expect(csp, url).toMatch(/object-src 'none'/);
        expect(csp, url).toMatch(/frame-ancestors 'none'/);
        expect(res.headers["x-frame-options"], url).toBe("DENY");
        expect(res.headers["cross-origin-opener-policy"], url).toBe("same-origin");
        expect(res.headers["cache-control"], url).toBe("no-cache");
      }
    });

    it("caches hashed assets for a year, still nosniff, and keeps API misses JSON", async () => {
      const asset = await send(t.app, { method: "GET", url: "/assets/app-1a2b3c.js" });
      expect(asset.status).toBe(200);
      expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(asset.headers["x-content-type-options"]).toBe("nosniff");
      const miss = await send(t.app, { method: "GET", url: "/api/no-such-route" });
      expect(miss.status).toBe(404);
      expect(String(miss.headers["content-security-policy"])).toMatch(/default-src 'none'/);
    });
  });

  describe(`HSTS and CORS when configured [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { TRUST_PROXY: "127.0.0.1", CORS_ORIGINS: "https://app.example" } });
    });
    afterAll(async () => t.close());

    it("sends HSTS when the trusted proxy says X-Forwarded-Proto: https", async () => {
      const res = await send(t.app, { method: "GET", url: "/healthz", headers: { "x-forwarded-proto": "https" } });
      expect(String(res.headers["strict-transport-security"])).toMatch(/max-age=\d{7,}/);
      expect(
        (await send(t.app, { method: "GET", url: "/healthz" })).headers["strict-transport-security"],
      ).toBeUndefined();
    });

    it("ignores X-Forwarded-Proto from a peer that is not the trusted proxy", async () => {
      const res = await send(t.app, {
        method: "GET",
        url: "/healthz",
        headers: { "x-forwarded-proto": "https" },
        remoteAddress: "203.0.113.9",
      });
      expect(res.headers["strict-transport-security"]).toBeUndefined();
    });

    it("allows the configured origin, with credentials, and still refuses others", async () => {
      const allowed = await send(t.app, {
        method: "OPTIONS",
        url: "/api/auth/login",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-csrf-token",
        },
      });
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example");
      expect(allowed.headers["access-control-allow-credentials"]).toBe("true");
      expect(String(allowed.headers["access-control-allow-headers"]).toLowerCase()).toContain("x-csrf-token");
      const simple = await send(t.app, { method: "GET", url: "/healthz", headers: { origin: "https://app.example" } });
      expect(simple.headers["access-control-allow-origin"]).toBe("https://app.example");
      const other = await send(t.app, {
        method: "GET",
        url: "/healthz",
        headers: { origin: "https://app.example.evil.test" },
      });
      expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    });
  });
}
