import { createConnection } from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { login, register } from "../support/accounts.js";
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
  describe(`ops routes and docs [${dialect.name}]`, () => {
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

    it("labels unmatched URLs as one metrics series, so probing cannot blow up cardinality", async () => {
      for (let i = 0; i < 5; i++) await send(t.app, { method: "GET", url: `/probe-${i}-${Math.random()}` });
      const metrics = (await send(t.app, { method: "GET", url: "/metrics" })).text;
      expect(metrics).not.toMatch(/probe-/);
      expect(metrics).toMatch(/tessera_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    });

    it("answers unknown routes with a JSON 404 in the error shape", async () => {
      expectError(await call(t.app, "GET", "/api/nope"), 404, "not_found");
      expectError(await call(t.app, "POST", "/api/user/me"), 404, "not_found");
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
