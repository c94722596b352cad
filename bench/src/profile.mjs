// `npm run bench -- --profile`: Tessera under `node --cpu-prof` with the /me and /2fa/login loads;
// prints the functions with the most self time (main thread; argon2 runs on libuv's threads).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SourceMapConsumer } from "source-map-js";
import { runLoad } from "./load.mjs";
import { createFreshDatabase } from "./pg.mjs";
import { startTessera } from "./tessera.mjs";

/**
 * The server runs from one minified bundle (server/dist/main.js); its source map turns a frame of the bundle
 * back into the original file, line and function name, so the profile names our modules and the packages
 * bundled with them. Returns a function from a call frame to a call frame, or null without a map.
 */
export function bundleFrameMapper(bundlePath) {
  const mapPath = `${bundlePath}.map`;
  if (!existsSync(mapPath)) return null;
  const consumer = new SourceMapConsumer(JSON.parse(readFileSync(mapPath, "utf8")));
  const bundleUrl = pathToFileURL(bundlePath).href;
  return (frame) => {
    if (frame.url !== bundleUrl) return frame;
    const original = consumer.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
    if (original.source === null) return frame;
    return {
      ...frame,
      url: pathToFileURL(resolve(dirname(bundlePath), original.source)).href,
      lineNumber: original.line - 1,
      functionName: original.name ?? frame.functionName,
    };
  };
}

/** Self time per function (and per package) from a .cpuprofile; `mapFrame` undoes the bundling. */
export function analyzeCpuProfile(profile, repoRoot, mapFrame = (frame) => frame) {
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
    const callFrame = mapFrame(byId.get(id).callFrame);
    let url = callFrame.url.replace(/^file:\/\//, "");
    if (repoRoot && url.startsWith(repoRoot)) url = url.slice(repoRoot.length + 1);
    const name = callFrame.functionName || "(anonymous)";
    const key = `${name}  ${url ? `${url}:${callFrame.lineNumber + 1}` : ""}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const area = pkg
      ? pkg
      : url.startsWith("server/")
        ? "tessera server code"
        : url.startsWith("node:")
          ? "node core (JS)"
          : url
            ? url
            : name;
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([what, ms]) => ({ what, ms, share: ms / total }));
  return { total_ms: total, functions: top(fns, 30), areas: top(areas, 15) };
}

/**
 * Prepares data on an unprofiled server, then restarts it (same port, same data) under
 * --cpu-prof once per load, so each profile holds one flow and not the preparation.
 */
export async function runProfile({ args, serverMain, log }) {
  const dir = mkdtempSync(join(tmpdir(), "tessera-cpuprof-"));
  const repoRoot = resolve(serverMain, "../../..");
  // BENCH_PROFILE_DATABASE_URL: profile on a fresh PostgreSQL or MySQL database made next to that one.
  const adminUrl = process.env.BENCH_PROFILE_DATABASE_URL;
  const fresh = adminUrl ? await createFreshDatabase(adminUrl) : null;
  const tessera = await startTessera({ serverMain, hash: args.hash, databaseUrl: fresh?.url, log });
  const reports = [];
  const mapFrame = bundleFrameMapper(serverMain) ?? undefined;
  try {
    log(`preparing 16 users and ${args.mfaUsers} 2FA users (not profiled)`);
    await tessera.prepareUsers({ plainCount: 16, mfaCount: args.mfaUsers });
    const connections = args.connections;
    // The 2FA codes are for the current TOTP step: that load comes first.
    const candidates = [
      { key: "mfa_login", name: "POST /api/auth/2fa/login", spec: () => tessera.mfa_login_spec({ connections }) },
      { key: "me", name: "GET /api/user/me", spec: () => tessera.me_spec({ connections }) },
      {
        key: "passkey_2fa",
        name: "passkey second step (2fa/webauthn/options + 2fa/login)",
        spec: () => tessera.passkey_2fa_spec({ connections, amount: args.mfaUsers }),
      },
      {
        key: "passkey_login",
        name: "passkey sign-in (passkeys/login/*)",
        spec: () => tessera.passkey_login_spec({ connections }),
      },
    ].filter((flow) => !args.only || args.only.has(flow.key));
    if (candidates.some((flow) => flow.key.startsWith("passkey"))) await tessera.preparePasskeyUsers({ count: 16 });
    const flows = [];
    for (const flow of candidates) flows.push({ name: flow.name, spec: await flow.spec() });
    for (const [i, flow] of flows.entries()) {
      const flowDir = join(dir, String(i));
      await tessera.restart(["--cpu-prof", `--cpu-prof-dir=${flowDir}`]);
      log(`${flow.name} under --cpu-prof`);
      const figures = await runLoad(flow.spec, { pid: tessera.pid, durationSec: args.durationSec });
      const amount = figures.count_bounded ? ` (${figures.amount} requests)` : "";
      log(`  ${figures.ok_rps.toFixed(0)} req/s, ${figures.failures} failures${amount}`);
      await tessera.restart([]); // SIGTERM: the profile is written as the process exits
      const files = readdirSync(flowDir).filter((f) => f.endsWith(".cpuprofile"));
      if (files.length === 0)
        throw new Error(`no .cpuprofile written in ${flowDir} (did the server exit normally on SIGTERM?)`);
      const file = join(flowDir, files[0]);
      reports.push({
        flow,
        figures,
        file,
        analysis: analyzeCpuProfile(JSON.parse(readFileSync(file, "utf8")), repoRoot, mapFrame),
      });
    }
  } finally {
    await tessera.stop();
    await fresh?.drop();
  }

  const row = (r) => `${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.what}`;
  for (const { flow, figures, file, analysis } of reports) {
    console.log(
      `\n=== ${flow.name}: ${figures.ok_rps.toFixed(0)} req/s, p99 ${figures.p99_ms} ms, ${figures.failures} failures` +
        ` — main thread, ${(analysis.total_ms / 1000).toFixed(1)} s sampled (startup included)`,
    );
    console.log("Top self time by function:");
    console.log(analysis.functions.map(row).join("\n"));
    console.log("Self time by package / area:");
    console.log(analysis.areas.map(row).join("\n"));
    console.log(`profile: ${file}`);
  }
  if (process.env.BENCH_KEEP_PROFILE === "1") {
    console.log(`\nprofiles kept in ${dir}`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    console.log("\n(profiles deleted; set BENCH_KEEP_PROFILE=1 to keep them)");
  }
}
