import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const repoDir = resolve(serverDir, "..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds server/dist when it is missing or older than src, so the compiled entry points (main.js,
 * bin/tessera.mjs) are what gets tested. A directory lock keeps parallel test files from building at once.
 */
export function ensureServerBuilt(): void {
  const lock = join(serverDir, ".test-build.lock");
  const distMain = join(serverDir, "dist", "main.js");
  const distCli = join(serverDir, "dist", "cli", "index.js");
  const fresh = (): boolean =>
    existsSync(distMain) && existsSync(distCli) && statSync(distMain).mtimeMs >= newestMtime(join(serverDir, "src"));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (fresh()) return;
    try {
      mkdirSync(lock);
    } catch {
      // A lock left by a killed test run is stale after two minutes: a build takes seconds.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error("timed out waiting for another build of server/dist");
      execFileSync("sleep", ["0.5"]);
      continue;
    }
    try {
      if (!fresh()) {
        try {
          execFileSync("npm", ["run", "build", "-w", "server"], { cwd: repoDir, stdio: "pipe" });
        } catch (error) {
          // tsc still emits on type errors (someone else's work in progress); only a missing output is fatal.
          if (!fresh()) throw error;
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    return;
  }
}
