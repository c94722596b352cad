import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, readEnv } from "../../src/config.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("loadConfig accepted a bad configuration");
}

describe("loadConfig", () => {
  it("has the spec's defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: "127.0.0.1",
      publicUrl: "http://localhost:8000",
      trustProxy: [],
      corsOrigins: [],
      accessTokenTtlSeconds: 900,
      trustedDeviceDays: 30,
      redisUrl: null,
      smtpUrl: null,
      secretKey: null,
      rateLimitEnabled: true,
    });
    expect(config.databaseUrl).toMatch(/^sqlite:.*data[/\\]tessera\.db$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads every documented variable", () => {
    const config = loadConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      PUBLIC_URL: "https://auth.example/",
      DATA_DIR: "/tmp/tessera-x",
      TRUST_PROXY: "10.0.0.0/8, 127.0.0.1",
      CORS_ORIGINS: "https://app.example,https://admin.example",
      ACCESS_TOKEN_TTL: "600",
      TRUSTED_DEVICE_DAYS: "0",
      DATABASE_URL: "postgres://u@db/tessera",
      REDIS_URL: "redis://cache:6379",
      SMTP_URL: "smtp://mail:25",
      MAIL_FROM: "Auth <a@example>",
      METRICS_TOKEN: "scrape-me",
      HTTP_HEADERS_TIMEOUT: "5",
      HTTP_REQUEST_TIMEOUT: "20",
      HTTP_KEEP_ALIVE_TIMEOUT: "2",
      MAX_CONNECTIONS_PER_IP: "500",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      publicUrl: "https://auth.example",
      dataDir: "/tmp/tessera-x",
      trustProxy: ["10.0.0.0/8", "127.0.0.1"],
      corsOrigins: ["https://app.example", "https://admin.example"],
      accessTokenTtlSeconds: 600,
      trustedDeviceDays: 0,
      databaseUrl: "postgres://u@db/tessera",
      redisUrl: "redis://cache:6379",
      smtpUrl: "smtp://mail:25",
      mailFrom: "Auth <a@example>",
      metricsToken: "scrape-me",
      devOutbox: false, // SMTP_URL is set
      http: { headersTimeoutMs: 5000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 2000, maxConnectionsPerIp: 500 },
    });
    expect(loadConfig({}).devOutbox).toBe(true);
    expect(loadConfig({ NODE_ENV: "production" }).devOutbox).toBe(false);
  });

  it("sizes the database pool for the cores unless DATABASE_POOL_SIZE says otherwise", () => {
    expect(loadConfig({}).databasePoolSize).toBeNull();
    expect(loadConfig({ DATABASE_POOL_SIZE: "4" }).databasePoolSize).toBe(4);
    expect(configError({ DATABASE_POOL_SIZE: "0" }).problems[0]).toMatch(/^DATABASE_POOL_SIZE:/);
  });

  it("reports every bad variable at once, one line each naming it", () => {
    const error = configError({ PORT: "abc", DATABASE_URL: "ftp://x", ACCESS_TOKEN_TTL: "-1", REDIS_URL: "http://x" });
    expect(error.problems).toHaveLength(4);
    for (const name of ["PORT", "DATABASE_URL", "ACCESS_TOKEN_TTL", "REDIS_URL"]) {
      expect(
        error.problems.filter((line) => line.startsWith(`${name}:`)),
        name,
      ).toHaveLength(1);
    }
    expect(error.message.split("\n")).toHaveLength(4);
    for (const line of error.problems) expect(line).not.toContain("\n");
  });

  it.each([
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["PORT", " "],
    ["ACCESS_TOKEN_TTL", "0"],
    ["ACCESS_TOKEN_TTL", "1e3"],
    ["TRUSTED_DEVICE_DAYS", "-3"],
    ["PUBLIC_URL", "localhost:8000"],
    ["PUBLIC_URL", "ftp://x"],
    ["CORS_ORIGINS", "app.example"],
    ["SMTP_URL", "http://mail"],
    ["RATE_LIMIT", "maybe"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mongodb://x"],
    ["HTTP_HEADERS_TIMEOUT", "0"],
    ["HTTP_REQUEST_TIMEOUT", "soon"],
    ["MAX_CONNECTIONS_PER_IP", "0"],
  ])("refuses %s=%j with a line naming it", (name, value) => {
    const error = configError({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it.each([
    "127.0.0.1",
    "10.0.0.0/8",
    "::1",
    "2001:db8::/32",
    "loopback",
    "10.0.0.1, uniquelocal",
    "192.168.0.0/255.255.0.0",
  ])("accepts TRUST_PROXY=%j", (value) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy.length).toBeGreaterThan(0);
  });

  it.each(["banana", "10.0.0.0/33", "300.1.1.1", "127.0.0.1/", "::1/129"])(
    "refuses TRUST_PROXY=%j with a line naming it",
    (value) => {
      const error = configError({ TRUST_PROXY: value });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^TRUST_PROXY: /);
    },
  );

  it("reports a malformed TESSERA_SECRET_KEY together with the other problems, without echoing it", () => {
    const error = configError({ PORT: "abc", TESSERA_SECRET_KEY: "c2hvcnQta2V5LXZhbHVl" });
    expect(error.problems.map((line) => line.split(":")[0])).toEqual(["PORT", "TESSERA_SECRET_KEY"]);
    expect(error.message).not.toContain("c2hvcnQta2V5LXZhbHVl");
    expect(
      loadConfig({
        TESSERA_SECRET_KEY: `a:${Buffer.alloc(32, 1).toString("base64")},b:${Buffer.alloc(32, 2).toString("base64")}`,
      }).secretKey,
    ).toMatch(/^a:/);
  });

  it("reads .env from the working directory, and real variables win", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-env-"));
    try {
      writeFileSync(join(dir, ".env"), "PORT=9100\nHOST=0.0.0.0\n");
      const env = readEnv({ HOST: "127.0.0.2" }, dir);
      expect(loadConfig(env)).toMatchObject({ port: 9100, host: "127.0.0.2" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the compiled server refuses a bad configuration", () => {
  let workDir: string;
  beforeAll(() => {
    ensureServerBuilt();
    workDir = mkdtempSync(join(tmpdir(), "tessera-main-"));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  function start(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
    const result = spawnSync(process.execPath, [join(serverDir, "dist", "main.js")], {
      cwd: workDir,
      encoding: "utf8",
      timeout: 20_000,
      env: { PATH: process.env["PATH"] ?? "", DATA_DIR: join(workDir, "data"), PORT: "0", ...env },
    });
    return { status: result.status, stderr: result.stderr, stdout: result.stdout };
  }

  it("exits 1 with one line naming PORT when PORT=abc", () => {
    const result = start({ PORT: "abc" });
    expect(result.status, result.stderr).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
  });

  it("exits 1 naming each of several bad variables, one line each", () => {
    const result = start({ PORT: "abc", DATABASE_URL: "ftp://x", ACCESS_TOKEN_TTL: "-1", REDIS_URL: "http://x" });
    expect(result.status, result.stderr).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(4);
    for (const name of ["PORT", "DATABASE_URL", "ACCESS_TOKEN_TTL", "REDIS_URL"])
      expect(
        lines.filter((line) => line.includes(name)),
        name,
      ).toHaveLength(1);
  });

  it("exits 1 with one line naming TRUST_PROXY when it is not an address or CIDR", () => {
    const result = start({ TRUST_PROXY: "banana" });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/TRUST_PROXY/)]);
  });

  it("exits 1 with one line naming DATABASE_URL when the database cannot be reached", () => {
    const result = start({ DATABASE_URL: "postgres://tessera:s3cret-db-pass@127.0.0.1:1/tessera" });
    expect(result.status, result.stderr).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DATABASE_URL/);
    expect(result.stderr).not.toContain("s3cret-db-pass");
  });

  it("exits 1 with one line naming PORT when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const result = start({ PORT: String(port), HOST: "127.0.0.1" });
      expect(result.status, result.stderr).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/PORT/);
    } finally {
      blocker.close();
    }
  });

  it("exits 1 naming TESSERA_SECRET_KEY when it is not a 32-byte key, without echoing it", () => {
    const result = start({ TESSERA_SECRET_KEY: "c2hvcnQta2V5LXZhbHVl" });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/TESSERA_SECRET_KEY/);
    expect(result.stderr).not.toContain("c2hvcnQta2V5LXZhbHVl");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});
