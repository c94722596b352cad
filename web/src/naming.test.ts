/**
 * One name for the concept: "two-factor" in what people read, `secondFactor` / `SecondFactor` in web identifiers.
 * The server's wire names stay as the API spells them (`mfa_enabled`, `enable_mfa`, `/api/auth/2fa/...`): they are
 * snake_case, so they are told apart from identifiers by their shape.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const webRoot = fileURLToPath(new URL("..", import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(join(webRoot, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => /\.(ts|vue)$/.test(name))
    .map((name) => join(folder, name));
}

// This file names what it looks for, so it is left out.
const files = [...sourceFiles("src"), ...sourceFiles("e2e")].filter((file) => file !== join("src", "naming.test.ts"));
const otherNames = /mfa|2fa|two_?factor/i;
const wireName = /^[a-z0-9]+(_[a-z0-9]+)+$/;
// One-word wire names: the admin API's `mfa=on|off` filter of GET /api/admin/users (SPEC §2 "Admin and policy").
const oneWordWireNames = new Set(["mfa"]);

describe("naming", () => {
  it("finds the web sources", () => {
    expect(files.length).toBeGreaterThan(40);
  });

  it("names files after the second factor, not mfa, 2fa or twofactor", () => {
    expect(files.filter((file) => otherNames.test(file.replace(/^e2e\/two-factor-flow/, "")))).toEqual([]);
  });

  it("spells identifiers secondFactor / SecondFactor; only the server's snake_case wire names say mfa", () => {
    const offenders: string[] = [];
    for (const file of files) {
      for (const [token] of readFileSync(join(webRoot, file), "utf8").matchAll(/[A-Za-z_$][\w$]*/g)) {
        if (otherNames.test(token) && !wireName.test(token) && !oneWordWireNames.has(token))
          offenders.push(`${relative(".", file)}: ${token}`);
      }
    }
    expect([...new Set(offenders)]).toEqual([]);
  });

  it("says two-factor in the UI's words, never 2FA, MFA or second factor", () => {
    const offenders = files
      .filter((file) => file.startsWith("src") && !file.endsWith(".test.ts"))
      .flatMap((file) =>
        readFileSync(join(webRoot, file), "utf8")
          .split("\n")
          .filter((line) => /\b2FA\b|\bMFA\b|[Ss]econd factor/.test(line))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
