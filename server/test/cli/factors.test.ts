import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { enrolledUser, login } from "../support/accounts.js";
import { SoftAuthenticator } from "../support/authenticator.js";
import { addPasskey } from "../support/passkeys.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

/** `tessera user factors` and `user remove-factor` (issue 15: an operator lists and removes a user's factors). */
describe("the tessera command line: a user's second factors", () => {
  let dir: string;
  let env: Record<string, string>;
  const secretKey = randomBytes(32).toString("base64");
  const tessera = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), ...args], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const withApp = async <T>(body: (t: TestApp) => Promise<T>): Promise<T> => {
    const t = await buildTestApp({ databaseUrl: env["DATABASE_URL"] ?? "", secretKey });
    try {
      return await body(t);
    } finally {
      await t.close();
    }
  };
  const rowsOf = (stdout: string): string[][] =>
    stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.split(/ {2,}/));

  beforeAll(() => {
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

  it("lists kinds, names and dates, never a secret; removing the last factor turns two-factor off", async () => {
    const secret = await withApp(async (t) => {
      const { accessToken, secret } = await enrolledUser(t.app, t.clock, "dana");
      expect((await addPasskey(t, accessToken, new SoftAuthenticator(), "YubiKey")).status).toBe(200);
      return secret;
    });
    const list = tessera("user", "factors", "dana");
    expect(list.status, list.stderr).toBe(0);
    const [header, totp, passkey, summary] = rowsOf(list.stdout);
    expect(header).toEqual(["KIND", "ID", "NAME", "ADDED", "LAST USED"]);
    expect(totp).toEqual(["totp", expect.any(String), "-", expect.stringMatching(/^\d{4}-/), "-"]);
    expect(passkey).toEqual(["passkey", expect.any(String), "YubiKey", expect.stringMatching(/^\d{4}-/), "-"]);
    expect(summary).toEqual(["two-factor on; 10 recovery code(s) left"]);
    expect(list.stdout).not.toContain(secret);

    const removePasskey = tessera("user", "remove-factor", "dana", passkey?.[1] ?? "");
    expect(removePasskey.status, removePasskey.stderr).toBe(0);
    expect(removePasskey.stdout).toMatch(/two-factor is still on for dana/);
    const removeTotp = tessera("user", "remove-factor", "dana", totp?.[1] ?? "");
    expect(removeTotp.status, removeTotp.stderr).toBe(0);
    expect(removeTotp.stdout).toMatch(/two-factor is now off for dana/);
    await withApp(async (t) => {
      expect((await login(t.app, "dana")).body["access_token"]).toBeDefined();
    });
    const unknown = tessera("user", "remove-factor", "dana", "nope");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/No such factor/);
  });
});
