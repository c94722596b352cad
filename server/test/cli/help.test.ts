import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

/** Help needs no configuration and no database: the command runs with PATH alone. */
function tessera(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(serverDir, "bin", "tessera.mjs"), ...args], {
    env: { PATH: process.env["PATH"] ?? "" },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const commands = [
  "migrate",
  "users list",
  "users show <name>",
  "user lock <name>",
  "user unlock <name>",
  "user roles <name>",
  "policy show",
  "policy set",
  "user create-admin <name>",
  "user grant-admin <name>",
  "user delete <name>",
  "user reset-2fa <name>",
  "user factors <name>",
  "user remove-factor <name> <id>",
  "audit [--user <name>] [--type T] [--since T] [--until T] [--limit N] [--csv]",
  "keys rotate",
  "keys reencrypt",
  "oidc clients list",
  "oidc clients add <name>",
  "oidc clients remove <client_id>",
  "purge",
  "backup <path>",
  "help",
];

describe("tessera help", () => {
  beforeAll(() => ensureServerBuilt());

  it.each([["help"], ["--help"], ["-h"], ["users", "--help"]])(
    "prints every command, one line each, and exits 0 for %s",
    (...args: string[]) => {
      const run = tessera(...args);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toBe("");
      const lines = run.stdout.split("\n");
      for (const command of commands) {
        const line = lines.filter((l) => l.trimStart().startsWith(`${command} `));
        expect(line, command).toHaveLength(1);
        expect(line[0]?.trim().length, command).toBeGreaterThan(command.length + 5);
      }
    },
  );

  it("prints the usage to stderr and exits 1 with no command or an unknown one", () => {
    for (const args of [[], ["frobnicate"]]) {
      const run = tessera(...args);
      expect(run.status, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(/Usage: tessera/);
    }
  });
});
