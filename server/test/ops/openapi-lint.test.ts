import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";

/** Redocly CLI (pinned devDependency), run as its own process on the app's generated document. */
const redoclyCli = join(dirname(createRequire(import.meta.url).resolve("@redocly/cli/package.json")), "bin", "cli.js");

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

describe("/openapi.json", () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await buildTestApp({ databaseUrl: "sqlite::memory:" });
    dir = mkdtempSync(join(tmpdir(), "tessera-openapi-"));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes Redocly's recommended ruleset with no error and no warning", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    writeFileSync(join(dir, "openapi.json"), res.body);
    const run = spawnSync(
      process.execPath,
      [redoclyCli, "lint", "--extends=recommended", "--format=json", "openapi.json"],
      {
        cwd: dir, // no redocly.yaml of anyone else's is picked up
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      },
    );
    const report = JSON.parse(run.stdout) as LintReport;
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("names every operation, and documents public routes as needing no token", async () => {
    const document = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json<{
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
      security: unknown[];
    }>();
    const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(operations.filter((op) => op.operationId === undefined).map((op) => op.route)).toEqual([]);
    expect(document.security).toEqual([{ bearer: [] }]);
    const byRoute = new Map(operations.map((op) => [op.route, op]));
    expect(byRoute.get("POST /api/auth/register")?.security).toEqual([]);
    expect(byRoute.get("POST /api/auth/login")?.security).toEqual([{}, { basic: [] }]);
    expect(byRoute.get("POST /api/auth/token/refresh")?.security).toEqual([{}, { refreshCookie: [], csrfToken: [] }]);
    expect(byRoute.get("GET /api/user/me")?.security).toEqual([{ bearer: [] }]);
  });
});
