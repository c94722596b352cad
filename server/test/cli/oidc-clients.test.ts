import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/crypto/hash.js";
import { buildTestApp } from "../support/app.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

describe("tessera oidc clients, against a SQLite database", () => {
  let dir: string;
  let env: Record<string, string>;
  const secretKey = randomBytes(32).toString("base64");
  const tessera = (...args: string[]) =>
    spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), ...args], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });

  beforeAll(() => {
    ensureServerBuilt();
    dir = mkdtempSync(join(tmpdir(), "tessera-cli-oidc-"));
    env = {
      PATH: process.env["PATH"] ?? "",
      DATA_DIR: join(dir, "data"),
      DATABASE_URL: `sqlite:${join(dir, "data", "tessera.db")}`,
      TESSERA_SECRET_KEY: secretKey,
      PUBLIC_URL: "https://auth.example.org",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("adds a confidential client (secret printed once, stored hashed), lists it and removes it", async () => {
    const add = tessera(
      "oidc",
      "clients",
      "add",
      "Grafana",
      "--redirect-uri",
      "https://grafana.example.org/login/generic_oauth",
      "--require-2fa",
    );
    expect(add.status, add.stderr).toBe(0);
    const clientId = /client_id: +(\S+)/.exec(add.stdout)?.[1] ?? "";
    const secret = /client_secret: +(\S+)/.exec(add.stdout)?.[1] ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect(add.stdout).toContain("https://auth.example.org/.well-known/openid-configuration");

    const t = await buildTestApp({ databaseUrl: env["DATABASE_URL"] ?? "", secretKey });
    try {
      const row = await t.db
        .selectFrom("oidc_client")
        .selectAll()
        .where("client_id", "=", clientId)
        .executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(hashSecret(secret));
      expect(row.require_2fa).toBe(1);
      expect(JSON.stringify(row)).not.toContain(secret);
    } finally {
      await t.close();
    }

    const list = tessera("oidc", "clients", "list");
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${clientId} +Grafana +confidential +require-2fa`));
    expect(list.stdout).not.toContain(secret);

    expect(tessera("oidc", "clients", "remove", clientId).status).toBe(0);
    expect(tessera("oidc", "clients", "list").stdout).not.toContain(clientId);
    const again = tessera("oidc", "clients", "remove", clientId);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("No application has this client_id");
  });

  it("adds a public client without a secret, and refuses a bad redirect URI with one line", () => {
    const add = tessera(
      "oidc",
      "clients",
      "add",
      "SPA",
      "--public",
      "--first-party",
      "--redirect-uri",
      "http://localhost:5173/cb",
    );
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).not.toContain("client_secret");
    const bad = tessera("oidc", "clients", "add", "Bad", "--redirect-uri", "https://app.example.org/cb#frag");
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("fragment");
    const none = tessera("oidc", "clients", "add", "None");
    expect(none.status).toBe(1);
  });
});
