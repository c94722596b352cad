// Builds a workspace when its sources are newer than its build output (used by `npm start` and `npm run bench`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Runs `npm run build -w workspace` unless `output` is newer than every file under `sources`; exits on failure. */
export function buildIfStale(workspace, sources, output, log = console.log) {
  const built = newestMtime(join(root, output));
  const changed = Math.max(...sources.map((s) => newestMtime(join(root, s))));
  if (built > 0 && built >= changed) return;
  log(`building ${workspace}…`);
  const result = spawnSync("npm", ["run", "build", "-w", workspace], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

export const buildServerIfStale = (log) =>
  buildIfStale("server", ["server/src", "server/tsconfig.build.json", "server/scripts"], "server/dist/main.js", log);
export const buildWebIfStale = (log) =>
  buildIfStale("web", ["web/src", "web/build", "web/index.html", "web/vite.config.ts"], "web/dist/index.html", log);
