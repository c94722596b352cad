// `npm start`: builds the server and the web UI when their sources are newer than the build, then serves.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildServerIfStale, buildWebIfStale, root } from "./build-if-stale.mjs";
import { serverCommand } from "./node-flags.mjs";

buildServerIfStale();
buildWebIfStale();

const { file, args, env } = serverCommand(join(root, "server/dist/main.js"));
const server = spawnSync(file, args, {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(server.status ?? 0);
