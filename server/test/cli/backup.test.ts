import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import SQLite from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { backup } from "../../src/cli/backup.js";
import { appOn, buildTestApp } from "../support/app.js";
import { enrolledUser, fullLogin, register } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

const run = promisify(execFile);
const [sqliteDialect] = testDialects();

describe("tessera backup", () => {
  beforeAll(() => ensureServerBuilt());

  it("backup during writes: a server on the copy signs the account in with its TOTP", async () => {
    if (sqliteDialect?.name !== "sqlite") throw new Error("SQLite comes first in testDialects()");
    const t = await appOn(sqliteDialect);
    try {
      const { secret } = await enrolledUser(t.app, t.clock, "keeper");
      const databasePath = t.databaseUrl.slice("sqlite:".length);
      const copy = join(databasePath, "..", "copy.db");
      let writes = 0;
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          await register(t.app, `writer${writes}`);
          writes += 1;
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const result = await run(process.execPath, [join(serverDir, "bin", "tessera.mjs"), "backup", copy], {
        env: { PATH: process.env["PATH"] ?? "", DATABASE_URL: t.databaseUrl, TESSERA_SECRET_KEY: t.secretKey },
        timeout: 30_000,
      });
      stop = true;
      await writer;
      expect(result.stdout).toContain(`backed up ${databasePath} to ${copy}`);
      expect(writes).toBeGreaterThan(0);
      expect(statSync(copy).mode & 0o777).toBe(0o600);
      const check = new SQLite(copy, { readonly: true });
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
      check.close();

      const restored = await buildTestApp({ databaseUrl: `sqlite:${copy}`, secretKey: t.secretKey, clock: t.clock });
      try {
        await fullLogin(restored, "keeper", secret);
      } finally {
        await restored.close();
      }
    } finally {
      await t.close();
    }
  });

  it("refuses to overwrite a file, and prints the dump commands for PostgreSQL and MySQL without the password", () => {
    expect(() => backup("sqlite::memory:", "/tmp/x.db")).toThrow("in-memory");
    const pgLines = backup("postgres://tessera:s3cret@db.internal:5433/tessera", "/backups/t.dump").join("\n");
    expect(pgLines).toContain("pg_dump --format=custom");
    expect(pgLines).toContain("--host 'db.internal' --port 5433 --username 'tessera'");
    expect(pgLines).not.toContain("s3cret");
    const myLines = backup("mysql://root:hunter2@127.0.0.1:3306/tessera", "/backups/t.sql").join("\n");
    expect(myLines).toContain("mysqldump --single-transaction");
    expect(myLines).not.toContain("hunter2");
  });
});
