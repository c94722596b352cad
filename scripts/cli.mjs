// `npm run cli -- <command>`: the `tessera` CLI, built first when needed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
if (!existsSync(`${root}server/dist/cli/index.js`)) {
  const build = spawnSync("npm", ["run", "build", "-w", "server"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const { cli } = await import(`${root}server/dist/cli/index.js`);
process.exitCode = await cli(process.argv.slice(2));
