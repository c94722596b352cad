/*
 * GET /api/forward-auth as nginx (X-Original-URL), Traefik and Caddy (X-Forwarded-*) call it, against the
 * rules of support/forward-auth.ts, with the site-wide session cookie of a browser signed in at Tessera.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword, totpCode, uniqueName } from "../support/accounts.js";
import { cookie } from "../support/cookies.js";
import { check, forwardAuthEnv, loginFor } from "../support/forward-auth.js";
import { call, expectError, send, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`forward-auth [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: forwardAuthEnv() });
    });
    afterAll(async () => t.close());

    async function signedIn(prefix: string): Promise<{ name: string; userId: string; session: string; token: string }> {
      const name = uniqueName(prefix);
      const { userId } = await register(t.app, name);
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: name, password: strongPassword },
      });
      const token = str(res.body["access_token"]);
      return { name, userId, session: cookie(res.headers, "tessera_session").value, token };
    }

    it("sends an anonymous browser to sign in and back: 302 for Traefik/Caddy, 401 + Location for nginx", async () => {
      const url = "http://app.tessera.test/notes?id=7&x=a%20b";
      const traefik = await check(t, url);
      expect(traefik.status).toBe(302);
      expect(traefik.headers["location"]).toBe(loginFor(url));
      const nginx = await check(t, url, { style: "nginx" });
      expectError(nginx, 401, "unauthorized");
      expect(nginx.headers["location"]).toBe(loginFor(url));
      const direct = await send(t.app, { method: "GET", url: `/api/forward-auth?rd=${encodeURIComponent(url)}` });
      expect(direct.status).toBe(302);
      expect(direct.headers["location"]).toBe(loginFor(url));
    });

    it("lets a signed-in browser through with Remote-User, Remote-Email, Remote-Groups and Remote-AAL", async () => {
      const { name, userId, session } = await signedIn("through");
      const res = await check(t, "http://app.tessera.test/", { session });
      expect(res.status, res.text).toBe(200);
      expect(res.headers["remote-user"]).toBe(name);
      expect(res.headers["remote-email"]).toBe("");
      expect(res.headers["remote-groups"]).toBe("");
      expect(res.headers["remote-aal"]).toBe("1");
      expect(res.headers["cache-control"]).toBe("no-store");
      // A verified address is passed on; the nginx style answers the same.
      await t.db
        .updateTable("user")
        .set({ email: `${name}@example.com`, email_verified: 1 })
        .where("id", "=", userId)
        .execute();
      const nginx = await check(t, "http://app.tessera.test/page", { session, style: "nginx" });
      expect(nginx.status).toBe(200);
      expect(nginx.headers["remote-email"]).toBe(`${name}@example.com`);
    });

    it("refuses a one-factor session on a two_factor path until a second factor is verified", async () => {
      const { session, token } = await signedIn("step-up");
      const url = "http://app.tessera.test/secure/report";
      const refused = await check(t, url, { session });
      expect(refused.status).toBe(302);
      expect(refused.headers["location"]).toBe(loginFor(url));
      expect((await check(t, url, { session, style: "nginx" })).status).toBe(401);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token,
        body: { code: totpCode(str(setup.body["secret"]), t.clock) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      const stepped = cookie(confirm.headers, "tessera_session").value;
      const allowed = await check(t, url, { session: stepped });
      expect(allowed.status).toBe(200);
      expect(allowed.headers["remote-aal"]).toBe("2");
      // The one-factor session was ended when two-factor was turned on.
      expect((await check(t, "http://app.tessera.test/", { session })).status).toBe(302);
    });

    it("answers 403 on a deny path and an unnamed host (default deny), signed in or not, no redirect", async () => {
      const { session } = await signedIn("deny");
      for (const url of ["http://app.tessera.test/closed", "http://other.tessera.test/", "http://wild.tessera.test/"]) {
        for (const cookies of [{ session }, {}]) {
          const res = await check(t, url, cookies);
          expectError(res, 403, "forbidden");
          expect(res.headers["location"]).toBeUndefined();
          expect(res.headers["remote-user"]).toBeUndefined();
        }
      }
      expect((await check(t, "http://a.b.wild.tessera.test/", { session })).status).toBe(200);
    });

    it("lets only the rule's roles through", async () => {
      const { userId, session } = await signedIn("roles");
      expectError(await check(t, "http://app.tessera.test/admin", { session }), 403, "forbidden");
      await t.db.updateTable("user").set({ roles: "ops,dev" }).where("id", "=", userId).execute();
      const res = await check(t, "http://app.tessera.test/admin", { session });
      expect(res.status).toBe(200);
      expect(res.headers["remote-groups"]).toBe("ops,dev");
    });

    it("ends access at logout, and treats a forged cookie as no session", async () => {
      const { session, token } = await signedIn("logout");
      expect((await check(t, "http://app.tessera.test/", { session })).status).toBe(200);
      expect((await call(t.app, "POST", "/api/auth/logout", { token })).status).toBe(204);
      expect((await check(t, "http://app.tessera.test/", { session })).status).toBe(302);
      const forged = `${session.split(".")[0]}.${"A".repeat(43)}`;
      expect((await check(t, "http://app.tessera.test/", { session: forged })).status).toBe(302);
    });

    it("answers a request other than GET or HEAD with a plain 401: no login round trip would replay it", async () => {
      const res = await check(t, "http://app.tessera.test/form", { method: "POST" });
      expectError(res, 401, "unauthorized");
      expect(res.headers["location"]).toBeUndefined();
    });
  });
}
