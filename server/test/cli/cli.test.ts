import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword } from "../support/accounts.js";
import { call, expectError, type Json } from "../support/http.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

/** A table the CLI printed: its header cells and rows, cells split where two or more spaces stand. */
function tableOf(stdout: string): { header: string[]; rows: string[][] } {
  const [header = [], ...rows] = stdout
    .trimEnd()
    .split("\n")
    .map((line) => line.split(/ {2,}/));
  return { header, rows };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("the tessera command line, against a SQLite database", () => {
  let dir: string;
  let env: Record<string, string>;
  const secretKey = randomBytes(32).toString("base64");

  const tessera = (...args: string[]): Run => {
    const result = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), ...args], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  /** An app on the same database, to set up state and to observe the command's effect through the API. */
  const withApp = async <T>(body: (t: TestApp) => Promise<T>): Promise<T> => {
    const t = await buildTestApp({ databaseUrl: env["DATABASE_URL"] ?? "", secretKey });
    try {
      return await body(t);
    } finally {
      await t.close();
    }
  };

  beforeAll(async () => {
    ensureServerBuilt();
    dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
    env = {
      PATH: process.env["PATH"] ?? "",
      DATA_DIR: join(dir, "data"),
      DATABASE_URL: `sqlite:${join(dir, "data", "tessera.db")}`,
      TESSERA_SECRET_KEY: secretKey,
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrates a fresh database and exits 0, and again with nothing to do", () => {
    const first = tessera("migrate");
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Success: /);
    expect(first.stdout).toMatch(/database is up to date/);
    const again = tessera("migrate");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/Success: /);
  });

  it("lists users with their two-factor and lock state", async () => {
    await withApp(async (t) => {
      await enrolledUser(t.app, t.clock, "alice");
      await register(t.app, "bob", { email: "bob@example.com" });
    });
    const run = tessera("users", "list");
    expect(run.status, run.stderr).toBe(0);
    const { header, rows } = tableOf(run.stdout);
    expect(header).toEqual(["ID", "USERNAME", "EMAIL", "2FA", "STATUS", "ROLES"]);
    expect(rows.map((row) => row[1])).toEqual(["alice", "bob"]);
    expect(rows[0]).toEqual([expect.any(String), "alice", "-", "on", "active", "-"]);
    expect(rows[1]).toEqual([expect.any(String), "bob", "bob@example.com", "off", "active", "-"]);
    expect(run.stdout).not.toMatch(/\$argon2|v1:/);
  });

  it("rotates the signing key: a new key signs, and tokens signed before stay valid", async () => {
    const before = await withApp(async (t) => {
      const res = await login(t.app, "bob");
      const jwks = await call(t.app, "GET", "/.well-known/jwks.json");
      return { token: String(res.body["access_token"]), kids: (jwks.body["keys"] as Json[]).map((k) => k["kid"]) };
    });
    const run = tessera("keys", "rotate");
    expect(run.status, run.stderr).toBe(0);
    const kid = /new signing key (\S+)/.exec(run.stdout)?.[1];
    expect(kid).toBeDefined();
    expect(before.kids).not.toContain(kid);
    await withApp(async (t) => {
      expect((await call(t.app, "GET", "/api/user/me", { token: before.token })).status).toBe(200);
      const jwks = await call(t.app, "GET", "/.well-known/jwks.json");
      expect((jwks.body["keys"] as Json[]).map((k) => k["kid"])).toEqual(expect.arrayContaining([...before.kids, kid]));
      const fresh = await login(t.app, "bob");
      const header = JSON.parse(
        Buffer.from(String(fresh.body["access_token"]).split(".")[0] ?? "", "base64url").toString("utf8"),
      ) as Json;
      expect(header["kid"]).toBe(kid);
    });
  });

  it("resets a user's two-factor: the next login needs only the password, and old sessions are revoked", async () => {
    const sessionToken = await withApp(async (t) => {
      const res = await login(t.app, "alice");
      expect(res.body["mfa_required"]).toBe(true);
      return (await register(t.app, "carol")).accessToken;
    });
    const run = tessera("user", "reset-2fa", "Alice");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/two-factor authentication is off for Alice/);
    await withApp(async (t) => {
      const user = await t.db.selectFrom("user").selectAll().where("username", "=", "alice").executeTakeFirstOrThrow();
      expect(user.mfa_enabled).toBe(0);
      expect(await t.db.selectFrom("totp_credential").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
      expect(await t.db.selectFrom("recovery_code").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
      const live = await t.db
        .selectFrom("session")
        .selectAll()
        .where("user_id", "=", user.id)
        .where("revoked_at", "is", null)
        .execute();
      expect(live).toEqual([]);
      const res = await login(t.app, "alice");
      expect(res.status).toBe(200);
      expect(res.body["access_token"]).toBeTypeOf("string");
      // Someone else's session is untouched.
      expect((await call(t.app, "GET", "/api/user/me", { token: sessionToken })).status).toBe(200);
      const audit = await t.db.selectFrom("audit_event").select("type").where("user_id", "=", user.id).execute();
      expect(audit.map((row) => row.type)).toContain("mfa_reset_by_admin");
    });
  });

  it("deletes a user and everything of theirs", async () => {
    const bobId = await withApp(
      async (t) =>
        (await t.db.selectFrom("user").select("id").where("username", "=", "bob").executeTakeFirstOrThrow()).id,
    );
    const run = tessera("user", "delete", "bob");
    expect(run.status, run.stderr).toBe(0);
    await withApp(async (t) => {
      expect(await t.db.selectFrom("user").select("id").where("id", "=", bobId).execute()).toEqual([]);
      expect(await t.db.selectFrom("session").select("id").where("user_id", "=", bobId).execute()).toEqual([]);
      expect(await t.db.selectFrom("audit_event").select("id").where("user_id", "=", bobId).execute()).toEqual([]);
      expectError(await login(t.app, "bob"), 401, "invalid_credentials");
    });
    expect(tessera("users", "list").stdout).not.toMatch(/\tbob\t/);
  });

  it("shows the audit log, filtered by user", () => {
    const run = tessera("audit", "--user", "alice", "--limit", "5");
    expect(run.status, run.stderr).toBe(0);
    const { header, rows } = tableOf(run.stdout);
    expect(header).toEqual(["TIME", "EVENT", "USER", "BY", "IP", "USER AGENT"]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) expect(row[2]).toBe("alice");
  });

  it("creates an admin from TESSERA_ADMIN_PASSWORD", async () => {
    const run = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), "user", "create-admin", "root"], {
      cwd: dir,
      env: { ...env, TESSERA_ADMIN_PASSWORD: strongPassword },
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(strongPassword);
    await withApp(async (t) => {
      const res = await login(t.app, "root");
      expect((res.body["user"] as Json)["roles"]).toEqual(["admin"]);
    });
  });

  it("purges expired rows: the test app's clock is years behind, so its new login challenge is dead", async () => {
    await withApp(async (t) => {
      await enrolledUser(t.app, t.clock, "purged");
      await loginToken(t.app, "purged");
    });
    const run = tessera("purge");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^login_challenge: [1-9]\d* expired row\(s\) deleted$/m);
    expect(tessera("purge").stdout).toMatch(/^login_challenge: 0 expired row\(s\) deleted$/m);
  });

  it("re-encrypts every secret under the first key of a new key list", async () => {
    const newKey = randomBytes(32).toString("base64");
    const run = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), "keys", "reencrypt"], {
      cwd: dir,
      env: { ...env, TESSERA_SECRET_KEY: `next:${newKey},${secretKey}` },
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/re-encrypted \d+ signing key\(s\) and \d+ TOTP secret\(s\) under key next/);
    expect(run.stdout + run.stderr).not.toContain(newKey);
    const t = await buildTestApp({ databaseUrl: env["DATABASE_URL"] ?? "", secretKey: `next:${newKey}` });
    try {
      for (const row of await t.db.selectFrom("signing_key").select("private_jwk_ciphertext").execute())
        expect(row.private_jwk_ciphertext).toMatch(/^v1:next:/);
      expect((await login(t.app, "alice")).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("exits 1 for an unknown command, printing the usage", () => {
    const run = tessera("frobnicate");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Usage: tessera/);
    expect(tessera("users", "frobnicate").status).toBe(1);
  });

  it("exits 1 with no command, printing the usage", () => {
    const run = tessera();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Usage: tessera/);
  });

  it("exits 1 with a clear line for an unknown user", () => {
    const run = tessera("user", "reset-2fa", "nobody");
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^error: .*nobody/);
  });

  it("exits 1 naming the variable when the configuration is bad", () => {
    const run = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), "users", "list"], {
      cwd: dir,
      env: { ...env, DATABASE_URL: "ftp://x" },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^config error: DATABASE_URL/);
  });
});
