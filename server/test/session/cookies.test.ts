import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword } from "../support/accounts.js";
import { call, expectError, send } from "../support/http.js";
import { cookie } from "../support/cookies.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`browser sessions: refresh cookie and CSRF [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
      await register(t.app, "browser");
    });
    afterAll(async () => t.close());

    async function browserLogin(): Promise<{
      refresh: string;
      csrf: string;
      headers: LightMyRequestResponse["headers"];
    }> {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: "browser", password: strongPassword },
      });
      expect(res.status).toBe(200);
      return {
        refresh: cookie(res.headers, "tessera_refresh").value,
        csrf: cookie(res.headers, "tessera_csrf").value,
        headers: res.headers,
      };
    }

    const cookieHeader = (refresh: string, csrf: string): string =>
      `tessera_refresh=${encodeURIComponent(refresh)}; tessera_csrf=${encodeURIComponent(csrf)}`;

    it("keeps the refresh token in an HttpOnly, SameSite=Strict cookie on /api/auth, beside a CSRF one", async () => {
      const { headers, refresh } = await browserLogin();
      const refreshCookie = cookie(headers, "tessera_refresh");
      expect(refreshCookie.attributes.has("httponly")).toBe(true);
      expect(refreshCookie.attributes.get("samesite")).toBe("Strict");
      expect(refreshCookie.attributes.get("path")).toBe("/api/auth");
      // Plain http here: Secure would make the browser drop it.
      expect(refreshCookie.attributes.has("secure")).toBe(false);
      expect(refresh).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      const csrfCookie = cookie(headers, "tessera_csrf");
      expect(csrfCookie.attributes.has("httponly")).toBe(false);
      expect(csrfCookie.attributes.get("samesite")).toBe("Strict");
      expect(csrfCookie.value.length).toBeGreaterThanOrEqual(22);
    });

    it("marks the cookies Secure behind a trusted HTTPS proxy", async () => {
      const proxied = await appOn(dialect, { env: { TRUST_PROXY: "127.0.0.1" } });
      try {
        await register(proxied.app, "secure-browser");
        const res = await send(proxied.app, {
          method: "POST",
          url: "/api/auth/login",
          body: { username: "secure-browser", password: strongPassword },
          headers: { "x-forwarded-proto": "https" },
        });
        expect(res.status).toBe(200);
        expect(cookie(res.headers, "tessera_refresh").attributes.has("secure")).toBe(true);
        expect(cookie(res.headers, "tessera_csrf").attributes.has("secure")).toBe(true);
      } finally {
        await proxied.close();
      }
    });

    it("refreshes with the cookie and a matching X-CSRF-Token header, rotating the cookie", async () => {
      const { refresh, csrf } = await browserLogin();
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/token/refresh",
        headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": csrf },
      });
      expect(res.status, res.text).toBe(200);
      expect(typeof res.body["access_token"]).toBe("string");
      const rotated = cookie(res.headers, "tessera_refresh").value;
      expect(rotated).not.toBe(refresh);
      expect(rotated).toBe(res.body["refresh_token"]);
      const me = await call(t.app, "GET", "/api/user/me", { token: String(res.body["access_token"]) });
      expect(me.status).toBe(200);
    });

    it("refuses a cookie refresh without the CSRF header: 403 forbidden, and the token stays usable", async () => {
      const { refresh, csrf } = await browserLogin();
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/token/refresh",
          headers: { cookie: cookieHeader(refresh, csrf) },
        }),
        403,
        "forbidden",
      );
      // The refused request did not consume the refresh token.
      const ok = await send(t.app, {
        method: "POST",
        url: "/api/auth/token/refresh",
        headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": csrf },
      });
      expect(ok.status).toBe(200);
    });

    it("refuses a cookie refresh with a wrong CSRF header: 403 forbidden", async () => {
      const { refresh, csrf } = await browserLogin();
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/token/refresh",
          headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": `${csrf}x` },
        }),
        403,
        "forbidden",
      );
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/token/refresh",
          headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": "" },
        }),
        403,
        "forbidden",
      );
    });

    it("refuses a cookie refresh when the CSRF cookie is missing, even with a header", async () => {
      const { refresh, csrf } = await browserLogin();
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/token/refresh",
        headers: { cookie: `tessera_refresh=${encodeURIComponent(refresh)}`, "x-csrf-token": csrf },
      });
      expectError(res, 403, "forbidden");
    });

    it("refuses a refresh with neither body nor cookie: 401", async () => {
      expectError(await send(t.app, { method: "POST", url: "/api/auth/token/refresh" }), 401, "unauthorized");
    });

    it("logs out with the cookie only when the CSRF header matches", async () => {
      const { refresh, csrf } = await browserLogin();
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/logout",
          headers: { cookie: cookieHeader(refresh, csrf) },
        }),
        403,
        "forbidden",
      );
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/logout",
        headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": csrf },
      });
      expect(res.status).toBe(204);
      const cleared = cookie(res.headers, "tessera_refresh");
      expect(cleared.value).toBe("");
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/token/refresh",
          headers: { cookie: cookieHeader(refresh, csrf), "x-csrf-token": csrf },
        }),
        401,
        "unauthorized",
      );
    });
  });
}
