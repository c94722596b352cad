// `npm start`: builds the server and the web UI when their sources are newer than the build, then serves.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

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

function buildIfStale(workspace, sources, output) {
  const built = newestMtime(join(root, output));
  const changed = Math.max(...sources.map((s) => newestMtime(join(root, s))));
  if (built > 0 && built >= changed) return;
  console.log(`building ${workspace}…`);
  const result = spawnSync("npm", ["run", "build", "-w", workspace], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

buildIfStale("server", ["server/src", "server/tsconfig.build.json"], "server/dist/main.js");
buildIfStale("web", ["web/src", "web/build", "web/index.html", "web/vite.config.ts"], "web/dist/index.html");

const server = spawnSync(process.execPath, [join(root, "server/dist/main.js")], { cwd: root, stdio: "inherit" });
process.exit(server.status ?? 0);
