import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { enrolledUser, login, register, strongPassword } from "../support/accounts.js";
import { call, expectError, str } from "../support/http.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

/*
 * The administrators' commands (SPEC §2 "The CLI covers the same: users list/show, user
 * lock/unlock/reset-2fa/roles/delete, policy show/set, audit (filters, CSV)"), run as the operator runs them:
 * the built `tessera` on a SQLite file that an app instance shares, which observes each effect through the API.
 */

describe("tessera admin commands", () => {
  let dir: string;
  let env: Record<string, string>;
  const secretKey = randomBytes(32).toString("base64");
  // Run asynchronously: the app shares the SQLite file, and a synchronous child would stop this process's event
  // loop while the app still holds a write it commits on the next turn (group commit), so the CLI would wait for
  // a lock this process cannot release.
  const tessera = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(serverDir, "bin", "tessera.mjs"), ...args],
        { cwd: dir, env, encoding: "utf8", timeout: 30_000 },
        (error, stdout, stderr) => {
          const status = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
          resolve({ status, stdout, stderr });
        },
      );
    });
  const ok = async (...args: string[]): Promise<string> => {
    const run = await tessera(...args);
    expect(run.status, `${args.join(" ")}: ${run.stderr}`).toBe(0);
    return run.stdout;
  };
  let t: TestApp;

  beforeAll(async () => {
    ensureServerBuilt();
    dir = mkdtempSync(join(tmpdir(), "tessera-cli-admin-"));
    env = {
      PATH: process.env["PATH"] ?? "",
      DATA_DIR: join(dir, "data"),
      DATABASE_URL: `sqlite:${join(dir, "tessera.db")}`,
      TESSERA_SECRET_KEY: secretKey,
      REQUIRE_2FA: "role:ops",
    };
    await ok("migrate");
    await ok("policy", "show"); // the first run that opens the services seeds REQUIRE_2FA
    t = await buildTestApp({ databaseUrl: env["DATABASE_URL"] ?? "", secretKey });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the first admin and prints the next step; the admin is held in enrolment until two-factor", async () => {
    const out = await tessera("user", "create-admin", "root");
    expect(out.status).toBe(1); // no TESSERA_ADMIN_PASSWORD
    env["TESSERA_ADMIN_PASSWORD"] = strongPassword;
    const created = await ok("user", "create-admin", "root");
    delete env["TESSERA_ADMIN_PASSWORD"];
    expect(created).toMatch(/created admin root/);
    expect(created).toMatch(/next step: sign in .* turn on two-factor/);
    expect(created).not.toContain(strongPassword);
    const token = str((await login(t.app, "root")).body["access_token"]);
    expectError(await call(t.app, "GET", "/api/admin/users", { token }), 403, "enrollment_required");
  });

  it("shows and sets the policy; REQUIRE_2FA seeded it on the first run", async () => {
    expect(await ok("policy", "show")).toMatch(/^require_2fa: role:ops\n/);
    expect(await ok("policy", "set", "all")).toMatch(/require_2fa: all/);
    expect((await t.app.services.policy.get()).require_2fa).toBe("all");
    expect((await tessera("policy", "set", "everyone")).status).toBe(1);
    await ok("policy", "set", "off");
  });

  it("lists users with filters, shows one without secret material, sets roles, locks and unlocks", async () => {
    const { secret } = await enrolledUser(t.app, t.clock, "carol");
    await register(t.app, "dave", { email: "dave@example.org" });
    expect(await ok("users", "list", "--mfa", "on")).toMatch(/carol/);
    expect(await ok("users", "list", "--mfa", "on")).not.toMatch(/dave/);
    expect(await ok("users", "list", "--q", "example.org")).toMatch(/dave/);
    expect((await tessera("users", "list", "--mfa", "maybe")).status).toBe(1);
    const shown = await ok("users", "show", "carol");
    expect(shown).toMatch(/totp/);
    expect(shown).toMatch(/recovery_codes/);
    expect(shown).not.toContain(secret);
    expect(await ok("user", "roles", "dave", "ops,finance")).toMatch(/finance,ops/);
    expect((await ok("user", "roles", "dave")).trim()).toBe("finance,ops");
    expect(await ok("users", "list", "--role", "ops")).toMatch(/dave/);
    expect((await tessera("user", "roles", "dave", "Bad Role")).status).toBe(1);
    const token = str((await login(t.app, "dave")).body["access_token"]);
    await ok("user", "lock", "dave");
    expectError(await call(t.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
    expectError(await login(t.app, "dave"), 403, "forbidden");
    expect(await ok("users", "list", "--locked", "true")).toMatch(/dave/);
    await ok("user", "unlock", "dave");
    expect((await login(t.app, "dave")).status).toBe(200);
  });

  it("refuses to lock, demote or delete the last admin", async () => {
    for (const args of [
      ["user", "lock", "root"],
      ["user", "roles", "root", "ops"],
      ["user", "delete", "root"],
    ]) {
      const run = await tessera(...args);
      expect(run.status, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(/last administrator/);
    }
  });

  it("prints the audit log filtered by user and type, and as CSV", async () => {
    const table = await ok("audit", "--user", "dave", "--type", "account_locked");
    expect(table.split("\n")[0]).toMatch(/^TIME +EVENT +USER +BY +IP +USER AGENT$/);
    expect(table.trim().split("\n")).toHaveLength(2);
    const csv = await ok("audit", "--user", "dave", "--csv");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe("time,type,user_id,username,actor_id,actor_username,ip,user_agent,detail");
    expect(lines.some((line) => line.includes('"account_unlocked"') && line.includes('"tessera-cli"'))).toBe(true);
    expect((await tessera("audit", "--since", "not a time")).status).toBe(1);
  });
});
