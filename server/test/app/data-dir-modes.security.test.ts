/*
 * Attack: reading another account's secrets from the data directory. Another local user (a shared
 * host, a backup job, a container sidecar) reads the SQLite database, its WAL (which holds recent
 * writes in clear: password hashes, encrypted TOTP secrets, token hashes) or the secret key that
 * decrypts them. Every file under DATA_DIR must be 0600 and the directory 0700 when Tessera creates
 * it; files left wider by an older version are narrowed at start.
 */
import { chmodSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { loadSecretKeys } from "../../src/crypto/secret-key-file.js";
import { createDb } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrator.js";

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe("files under DATA_DIR", () => {
  it("creates the database, its WAL and shared-memory file 0600 in a 0700 directory", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "tessera-modes-")), "data");
    const file = join(dataDir, "tessera.db");
    const db = createDb(`sqlite:${file}`);
    try {
      await migrateToLatest(db);
      await sql`select 1`.execute(db);
      expect(modeOf(dataDir)).toBe("700");
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path), path).toBe("600");
    } finally {
      await db.destroy();
    }
  });

  it("narrows a database and WAL left world-readable to 0600 at start", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tessera-modes-"));
    const file = join(dataDir, "tessera.db");
    const first = createDb(`sqlite:${file}`);
    await migrateToLatest(first);
    await first.destroy();
    writeFileSync(`${file}-wal`, "");
    for (const path of [file, `${file}-wal`]) chmodSync(path, 0o644);
    const db = createDb(`sqlite:${file}`);
    try {
      await migrateToLatest(db);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path), path).toBe("600");
    } finally {
      await db.destroy();
    }
  });

  it("generates the secret key 0600 in a 0700 directory, and narrows an existing key file", () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "tessera-modes-")), "fresh");
    expect(loadSecretKeys(null, dataDir).generated).toBe(true);
    expect(modeOf(dataDir)).toBe("700");
    expect(modeOf(join(dataDir, "secret.key"))).toBe("600");
    chmodSync(join(dataDir, "secret.key"), 0o644);
    expect(loadSecretKeys(null, dataDir).generated).toBe(false);
    expect(modeOf(join(dataDir, "secret.key"))).toBe("600");
  });

  it("leaves the mode of a DATA_DIR the operator made alone", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tessera-modes-"));
    chmodSync(dataDir, 0o750);
    loadSecretKeys(null, dataDir);
    expect(modeOf(dataDir)).toBe("750");
    expect(modeOf(join(dataDir, "secret.key"))).toBe("600");
  });
});
