import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { login, register, strongPassword } from "../support/accounts.js";
import { call, expectError, send } from "../support/http.js";
import { testDialects, type TestDialect } from "../support/dialects.js";

/** Full paths of every route, read from Fastify's own route tree. */
function routesOf(tree: string): { path: string; methods: string[] }[] {
  const routes: { path: string; methods: string[] }[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    const path = `${stack.join("")}${match[2] ?? ""}`;
    stack.push(match[2] ?? "");
    if (match[3] !== undefined)
      routes.push({
        path,
        methods: match[3]
          .split(",")
          .map((m) => m.trim())
          .filter((m) => m !== "HEAD"),
      });
  }
  return routes;
}

/** Closes every server-side connection to one test database, as a database restart or a proxy's idle timeout does. */
async function killConnections(dialect: TestDialect, databaseUrl: string): Promise<number> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (dialect.name === "postgres") {
    const admin = new pg.Client({ connectionString: process.env["TEST_POSTGRES_URL"] });
    await admin.connect();
    try {
      const result = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [name],
      );
      return result.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }
  const admin = await createConnection(process.env["TEST_MYSQL_URL"] ?? "");
  try {
    const [rows] = await admin.query(
      "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
      [name],
    );
    const ids = (rows as { id: number }[]).map((row) => row.id);
    for (const id of ids) await admin.query(`KILL ${Number(id)}`);
    return ids.length;
  } finally {
    await admin.end();
  }
}

for (const dialect of testDialects()) {
  describe(`ops routes, docs and HTTP headers [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
      await register(t.app, "metered");
      await login(t.app, "metered");
      await login(t.app, "metered", "wrong password");
    });
    afterAll(async () => t.close());

    it("answers /healthz and /readyz with 200", async () => {
      const health = await call(t.app, "GET", "/healthz");
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: "ok" });
      const ready = await call(t.app, "GET", "/readyz");
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: "ready" });
    });

    it("serves Prometheus metrics with request and login counters", async () => {
      const res = await send(t.app, { method: "GET", url: "/metrics" });
      expect(res.status).toBe(200);
      expect(String(res.headers["content-type"])).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^# TYPE tessera_http_requests_total counter$/m);
      expect(res.text).toMatch(
        /^tessera_http_requests_total\{[^}]*route="\/api\/auth\/login"[^}]*status="200"[^}]*\} \d+$/m,
      );
      expect(res.text).toMatch(/^tessera_logins_total\{result="ok"\} [1-9]\d*$/m);
      expect(res.text).toMatch(/^tessera_logins_total\{result="failed"\} [1-9]\d*$/m);
      expect(res.text).toMatch(/^process_resident_memory_bytes /m);
    });

    it("serves Swagger UI at /docs", async () => {
      let res = await send(t.app, { method: "GET", url: "/docs" });
      for (let hops = 0; hops < 3 && res.status >= 300 && res.status < 400; hops++) {
        const location = new URL(String(res.headers["location"]), "http://tessera.test/docs/");
        res = await send(t.app, { method: "GET", url: `${location.pathname}${location.search}` });
      }
      expect(res.status).toBe(200);
      expect(String(res.headers["content-type"])).toMatch(/^text\/html/);
      expect(res.text).toMatch(/swagger-ui/i);
    });

    it("lists every /api route of the app in /openapi.json, with its method", async () => {
      const res = await call(t.app, "GET", "/openapi.json");
      expect(res.status).toBe(200);
      expect(String(res.body["openapi"])).toMatch(/^3\./);
      const paths = res.body["paths"] as Record<string, Record<string, unknown>>;
      const documented = new Set(
        Object.entries(paths).flatMap(([path, operations]) =>
          Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
        ),
      );
      const served = routesOf(t.app.printRoutes({ commonPrefix: false })).filter((route) =>
        route.path.startsWith("/api/"),
      );
      expect(served.length).toBeGreaterThanOrEqual(20);
      const missing = served
        .flatMap((route) => route.methods.map((method) => `${method} ${route.path}`))
        .filter((route) => !documented.has(route));
      expect(missing).toEqual([]);
      for (const expected of [
        "POST /api/auth/register",
        "POST /api/auth/login",
        "GET /api/user/me",
        "DELETE /api/auth/sessions/:id",
        "POST /api/auth/token/refresh",
      ]) {
        expect(documented.has(expected), expected).toBe(true);
      }
      expect(documented.has("GET /.well-known/jwks.json")).toBe(true);
    });

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

    it("labels unmatched URLs as one metrics series, so probing cannot blow up cardinality", async () => {
      for (let i = 0; i < 5; i++) await send(t.app, { method: "GET", url: `/probe-${i}-${Math.random()}` });
      const metrics = (await send(t.app, { method: "GET", url: "/metrics" })).text;
      expect(metrics).not.toMatch(/probe-/);
      expect(metrics).toMatch(/tessera_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
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

    it("answers unknown routes with a JSON 404 in the error shape", async () => {
      expectError(await call(t.app, "GET", "/api/nope"), 404, "not_found");
      expectError(await call(t.app, "POST", "/api/user/me"), 404, "not_found");
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

  describe(`readiness follows the database [${dialect.name}]`, () => {
    it("answers /readyz with 503 service_unavailable once the database is gone, while /healthz stays 200", async () => {
      const t = await appOn(dialect);
      try {
        expect((await call(t.app, "GET", "/readyz")).status).toBe(200);
        await t.db.destroy();
        expectError(await call(t.app, "GET", "/readyz"), 503, "service_unavailable");
        expect((await call(t.app, "GET", "/healthz")).status).toBe(200);
      } finally {
        await t.app.close();
        await t.dropDatabase();
      }
    });

    // SQLite is a file in this process: there is no server connection to lose.
    if (dialect.name !== "sqlite")
      it("survives the database closing its idle connections, and reconnects", async () => {
        const t = await appOn(dialect);
        try {
          await register(t.app, "reconnect");
          expect((await call(t.app, "GET", "/readyz")).status).toBe(200);
          expect(await killConnections(dialect, t.databaseUrl)).toBeGreaterThan(0);
          // Give the driver time to notice the closed sockets; an unhandled pool error would crash the process here.
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect((await call(t.app, "GET", "/readyz")).status).toBe(200);
          expect((await login(t.app, "reconnect")).status).toBe(200);
        } finally {
          await t.close();
        }
      });
  });

  describe(`a second app on the same database sees the same readiness [${dialect.name}]`, () => {
    it("is ready as soon as it is built on an already migrated database", async () => {
      const first = await appOn(dialect);
      const second = await buildTestApp({ databaseUrl: first.databaseUrl, secretKey: first.secretKey });
      try {
        expect((await call(second.app, "GET", "/readyz")).status).toBe(200);
      } finally {
        await second.close();
        await first.close();
      }
    });
  });
}
