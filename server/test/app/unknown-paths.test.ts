import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { expectError, send } from "../support/http.js";

// A path the web UI does not know answers the UI's own "Page not found" with status 404, not the app
// with 200 (a seed client probing /whoami must see a 404); the UI's pages still answer 200. The list of
// pages is dist/pages.json, which the web build writes from src/router.ts (web/build/page-paths.ts).
describe("paths outside the API", () => {
  let t: TestApp;
  let dist: string;
  const page = "<!doctype html><title>Tessera</title><div id=app></div>";
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "tessera-web-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), page);
    writeFileSync(
      join(dist, "pages.json"),
      JSON.stringify({ paths: ["/", "/login", "/login/2fa", "/profile", "/item/:id"] }),
    );
    t = await buildTestApp({ databaseUrl: "sqlite::memory:", webDist: dist });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it.each(["/", "/login", "/login/2fa", "/LOGIN/", "/profile?tab=sessions", "/item/42"])(
    "serves the UI's page %s with 200",
    async (url) => {
      const res = await send(t.app, { method: "GET", url });
      expect(res.status, url).toBe(200);
      expect(String(res.headers["content-type"])).toMatch(/^text\/html/);
      expect(res.text).toBe(page);
    },
  );

  it.each([
    "/whoami",
    "/signup",
    "/qrcode/alice",
    "/login-2fa",
    "/disable-mfa",
    "/verify-otp",
    "/users/create",
    "/login/2fa/x",
    "/item/1/2",
  ])("answers %s (unknown to the UI) with the UI's 404 page and status 404", async (url) => {
    const res = await send(t.app, { method: "GET", url });
    expect(res.status, url).toBe(404);
    expect(String(res.headers["content-type"])).toMatch(/^text\/html/);
    expect(res.text).toBe(page);
    expect(String(res.headers["content-security-policy"])).toMatch(/script-src 'self'/);
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("keeps JSON 404s for the API, assets, other methods and the server's own prefixes", async () => {
    expectError(await send(t.app, { method: "GET", url: "/api/whoami" }), 404, "not_found");
    expectError(await send(t.app, { method: "POST", url: "/whoami" }), 404, "not_found");
    expectError(await send(t.app, { method: "GET", url: "/assets/missing-1a2b.js" }), 404, "not_found");
    expectError(await send(t.app, { method: "GET", url: "/.well-known/nothing" }), 404, "not_found");
    expectError(await send(t.app, { method: "GET", url: "/favicon-missing.ico" }), 404, "not_found");
  });
});
