// `npm run bench -- --profile`: Tessera under `node --cpu-prof` with the /me and /2fa/login loads;
// prints the functions with the most self time (main thread; argon2 runs on libuv's threads).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad } from "./load.mjs";
import { startTessera } from "./tessera.mjs";

/** Self time per function (and per package) from a .cpuprofile. */
export function analyzeCpuProfile(profile, repoRoot) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000; // µs → ms; a delta belongs to the previous sample
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const areas = new Map();
  for (const [id, ms] of self) {
    const { callFrame } = byId.get(id);
    let url = callFrame.url.replace(/^file:\/\//, "");
    if (repoRoot && url.startsWith(repoRoot)) url = url.slice(repoRoot.length + 1);
    const name = callFrame.functionName || "(anonymous)";
    const key = `${name}  ${url ? `${url}:${callFrame.lineNumber + 1}` : ""}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const area = pkg ? pkg : url.startsWith("server/") ? "tessera server code" : url.startsWith("node:") ? "node core (JS)" : url ? url : name;
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([what, ms]) => ({ what, ms, share: ms / total }));
  return { total_ms: total, functions: top(fns, 30), areas: top(areas, 15) };
}

export async function runProfile({ args, serverMain, log }) {
  const dir = mkdtempSync(join(tmpdir(), "tessera-cpuprof-"));
  const repoRoot = resolve(serverMain, "../../..");
  const tessera = await startTessera({ serverMain, hash: args.hash, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`], log });
  const figures = {};
  try {
    log(`preparing 16 users and ${args.mfaUsers} 2FA users`);
    await tessera.prepareUsers({ plainCount: 16, mfaCount: args.mfaUsers });
    log("GET /api/user/me load");
    figures.me = await runLoad(await tessera.me_spec({ connections: args.connections }), { pid: tessera.pid, durationSec: args.durationSec });
    log(`  ${figures.me.ok_rps.toFixed(0)} req/s`);
    log("POST /api/auth/2fa/login load");
    figures.mfa_login = await runLoad(await tessera.mfa_login_spec({ connections: args.connections }), { pid: tessera.pid, durationSec: args.durationSec });
    log(`  ${figures.mfa_login.ok_rps.toFixed(0)} req/s (${figures.mfa_login.amount} requests)`);
  } finally {
    await tessera.stop();
  }
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) {
    console.error(`no .cpuprofile written in ${dir} (did the server exit normally on SIGTERM?)`);
    process.exitCode = 1;
    return;
  }
  const file = join(dir, files[0]);
  const analysis = analyzeCpuProfile(JSON.parse(readFileSync(file, "utf8")), repoRoot);
  const row = (r) => `${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.what}`;
  console.log(`CPU profile of Tessera's main thread (${(analysis.total_ms / 1000).toFixed(1)} s sampled, including preparation)`);
  console.log(`/me: ${figures.me.ok_rps.toFixed(0)} req/s; /2fa/login: ${figures.mfa_login.ok_rps.toFixed(0)} req/s\n`);
  console.log("Top self time by function:");
  console.log(analysis.functions.map(row).join("\n"));
  console.log("\nSelf time by package / area:");
  console.log(analysis.areas.map(row).join("\n"));
  console.log(`\nprofile: ${file}`);
  if (process.env.BENCH_KEEP_PROFILE !== "1") {
    // keep the file only on request (it is large); the summary above is the point
    rmSync(dir, { recursive: true, force: true });
    console.log("(deleted; set BENCH_KEEP_PROFILE=1 to keep it)");
  }
}
