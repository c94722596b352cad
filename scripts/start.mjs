// `npm start`: builds the server and the web UI when their sources are newer than the build, then serves.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildServerIfStale, buildWebIfStale, root } from "./build-if-stale.mjs";
import { serverNodeFlags } from "./node-flags.mjs";

buildServerIfStale();
buildWebIfStale();

const server = spawnSync(process.execPath, [...serverNodeFlags(), join(root, "server/dist/main.js")], {
  cwd: root,
  stdio: "inherit",
});
process.exit(server.status ?? 0);
