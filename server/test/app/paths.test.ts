import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultWebDist, serverDir, serverFile } from "../../src/paths.js";
import { ensureServerBuilt } from "../support/paths.js";

const packageDir = fileURLToPath(new URL("../../", import.meta.url));

describe("server paths (the same from src/, tsc's dist/ and the bundled dist/main.js)", () => {
  it("point at the server package, its worker scripts and the web UI's build", () => {
    expect(fileURLToPath(serverDir)).toBe(packageDir);
    const manifest = JSON.parse(readFileSync(join(fileURLToPath(serverDir), "package.json"), "utf8")) as {
      name: string;
    };
    expect(manifest.name).toBe("@tessera/server");
    expect(existsSync(serverFile("workers/password-hash.mjs"))).toBe(true);
    expect(existsSync(serverFile("workers/sqlite-checkpoint.mjs"))).toBe(true);
    expect(defaultWebDist).toBe(join(packageDir, "..", "web", "dist"));
  });

  it("the built entry point is one bundle that loads the excluded packages from node_modules", () => {
    ensureServerBuilt();
    const bundle = readFileSync(join(packageDir, "dist", "main.js"), "utf8");
    // tsc's entry point imports its own modules; the bundle imports none of ours.
    expect(bundle).not.toMatch(/from\s*"\.\/app\.js"/);
    expect(bundle).toMatch(/from\s*"better-sqlite3"|require\("better-sqlite3"\)/);
    expect(existsSync(join(packageDir, "dist", "main.js.map"))).toBe(true);
  });
});
