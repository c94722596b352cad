// `npm run bench`: every Tessera flow beside better-auth, the bare argon2id ceiling and a bare
// Fastify route, A/B alternated over rounds; prints a table and writes bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { buildServerIfStale } from "../../scripts/build-if-stale.mjs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readArgs, USAGE } from "./args.mjs";
import { startBetterAuth } from "./better-auth.mjs";
import { measureHashCeiling } from "./hash-ceiling.mjs";
import { runLoad, runLoads } from "./load.mjs";
import { freePort, readRss, readThreads, startChild } from "./proc.mjs";
import { setTimeout as sleep } from "node:timers/promises";
import { renderReport, summarize } from "./summary.mjs";
import { startTessera } from "./tessera.mjs";
import { createFreshDatabase, sqlTargets } from "./pg.mjs";
import { runProfile } from "./profile.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const serverMain = join(repo, "server/dist/main.js");

/** Scenarios in run order; `hashBound` ones use --hash-connections. */
export const SCENARIOS = [
  { key: "register", title: "register (POST /api/auth/register | sign-up/email)", hashBound: true },
  { key: "login", title: "password login, no 2FA (login | sign-in/email)", hashBound: true },
  { key: "login_mfa", title: "login step 1 with 2FA → challenge", hashBound: true },
  { key: "mfa_login", title: "2FA login with TOTP (2fa/login | verify-totp)" },
  { key: "passkey_login", title: "passkey sign-in, options+verify (passkeys/login | passkey/*) †" },
  { key: "passkey_2fa", title: "passkey second step, options+verify (2fa/webauthn | –) †" },
  { key: "me", title: "session check (GET /api/user/me | get-session)" },
  { key: "forward_auth", title: "forward-auth check (GET /api/forward-auth, nginx style)" },
  { key: "refresh", title: "token refresh (POST /api/auth/token/refresh)" },
  { key: "jwks", title: "JWKS (GET /.well-known/jwks.json)" },
];

const t0 = Date.now();
const log = (msg) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);

async function main() {
  let args;
  try {
    args = readArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  // A fresh clone has no build: compile the server (and rebuild it when its sources changed) before measuring.
  if (args.tessera) buildServerIfStale(log);
  if (args.profile) {
    await runProfile({ args, serverMain, log });
    return;
  }

  const wanted = (key) => !args.only || args.only.has(key);
  const scenarios = SCENARIOS.filter((s) => wanted(s.key));
  const outFile = args.out ? resolve(args.out) : join(here, "../results/latest.json");
  const results = {
    started_at: new Date().toISOString(),
    machine: {
      cores: cpus().length,
      cpu_model: cpus()[0]?.model ?? "unknown",
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      total_mem_bytes: totalmem(),
      loadavg_at_start: loadavg(),
    },
    parameters: {
      duration_s: args.durationSec,
      rounds: args.rounds,
      connections: args.connections,
      hash_connections: args.hashConnections,
      mfa_users: args.mfaUsers,
      warmup_users: args.warmupUsers,
      idle_s: args.idleSec,
      hash: args.hash,
      hash_loops: args.hashLoops,
      quick: args.quick,
      postgres: Boolean(process.env.BENCH_POSTGRES_URL),
      tessera: args.tessera,
      better_auth: args.betterAuth,
    },
    ceilings: { hash_rounds: [], hello_rounds: [] },
    scenarios: {},
    mixed: {},
    memory: null,
    errors: [],
  };

  const targets = []; // { key, target }
  const stoppers = [];
  let hello = null;
  let helloBase = null;
  try {
    // --- start everything on fresh storage ---
    if (args.tessera) {
      log("starting Tessera (SQLite)");
      const tessera = await startTessera({ serverMain, hash: args.hash, log });
      stoppers.push(() => tessera.stop());
      targets.push({ key: "tessera", target: tessera });
    }
    for (const { env, key, label } of args.tessera ? sqlTargets : []) {
      if (!process.env[env]) continue;
      const db = await createFreshDatabase(process.env[env]);
      stoppers.push(() => db.drop());
      log(`starting ${label}, database ${db.name}`);
      const target = await startTessera({ serverMain, hash: args.hash, databaseUrl: db.url, label, log });
      stoppers.push(() => target.stop());
      targets.push({ key, target });
    }
    if (args.betterAuth) {
      log("starting better-auth");
      const ba = await startBetterAuth({ hash: args.hash, log });
      stoppers.push(() => ba.stop());
      targets.push({ key: "better_auth", target: ba });
    }
    const helloPort = await freePort();
    helloBase = `http://127.0.0.1:${helloPort}`;
    hello = await startChild({
      name: "hello",
      args: [join(here, "hello-server.mjs")],
      env: { PORT: String(helloPort) },
      healthUrl: `${helloBase}/hello`,
    });
    stoppers.push(() => hello.stop());

    // --- idle memory after start: every target up, no request served but health checks ---
    await sleep(3000);
    results.memory = { idle_s: args.idleSec };
    for (const { key, target } of targets) {
      results.memory[key] = { start_rss: readRss(target.pid), start_threads: readThreads(target.pid) };
    }

    // --- prepare users (outside any timing) ---
    const needMfa = wanted("login_mfa") || wanted("mfa_login");
    const warmupCount = wanted("mfa_login") ? args.warmupUsers : 0;
    for (const { key, target } of targets) {
      const mfa = needMfa ? ` and ${args.mfaUsers} 2FA users` : "";
      const warmup = warmupCount > 0 ? ` (+${warmupCount} for the warm-up)` : "";
      log(`${target.label}: preparing 16 users${mfa}${warmup}`);
      try {
        await target.prepareUsers({ plainCount: 16, mfaCount: needMfa ? args.mfaUsers : 0, warmupCount });
      } catch (error) {
        results.errors.push(`${key}: preparing users failed: ${error.message}`);
        log(`${target.label}: preparing users failed: ${error.message}`);
      }
    }

    if (wanted("passkey_login") || wanted("passkey_2fa")) {
      for (const { key, target } of targets) {
        if (typeof target.preparePasskeyUsers !== "function") continue;
        log(`${target.label}: preparing 16 passkey users`);
        try {
          await target.preparePasskeyUsers({ count: 16 });
        } catch (error) {
          results.errors.push(`${key}: preparing passkey users failed: ${error.message}`);
          log(`${target.label}: preparing passkey users failed: ${error.message}`);
        }
      }
    }

    // --- one untimed /2fa/login pass per target on users of its own, so round 1 meets a warm JIT ---
    // (/2fa/login is count-bounded: a short burst, where a cold start would weigh on the shorter run.)
    if (warmupCount > 0) {
      for (const { target } of targets) {
        try {
          const spec = await target.mfa_login_spec({ connections: args.connections, users: target.warmupUsers });
          const r = await runLoad(spec, { pid: target.pid, durationSec: args.durationSec });
          log(`  warm-up ${target.label}: ${r.amount} untimed 2FA logins, ${r.failures} failures`);
        } catch (error) {
          log(`  warm-up ${target.label}: ERROR ${error.message}`);
        }
      }
    }
    // The passkey second step is count-bounded too: one untimed pass of its own.
    if (wanted("passkey_2fa") && args.warmupUsers > 0) {
      for (const { target } of targets) {
        if (typeof target.passkey_2fa_spec !== "function" || !target.passkeyUsers?.length) continue;
        try {
          const spec = await target.passkey_2fa_spec({ connections: args.connections, amount: args.warmupUsers });
          const r = await runLoad(spec, { pid: target.pid, durationSec: args.durationSec });
          log(`  warm-up ${target.label}: ${r.ok} untimed passkey second steps, ${r.failures} failures`);
        } catch (error) {
          log(`  warm-up ${target.label}: ERROR ${error.message}`);
        }
      }
    }

    // Passkey sign-in is time-bounded, but round 1 would still meet a cold JIT on both sides (the
    // second step above warms Tessera's ceremony code, nothing warms the peer's): a short untimed pass each.
    if ((wanted("passkey_login") || wanted("passkey_2fa")) && args.warmupUsers > 0) {
      for (const { target } of targets) {
        if (typeof target.passkey_login_spec !== "function" || !target.passkeyUsers?.length) continue;
        try {
          const spec = await target.passkey_login_spec({ connections: args.connections });
          const r = await runLoad(spec, { pid: target.pid, durationSec: Math.min(3, args.durationSec) });
          log(`  warm-up ${target.label}: ${r.ok} untimed passkey sign-ins, ${r.failures} failures`);
        } catch (error) {
          log(`  warm-up ${target.label}: ERROR ${error.message}`);
        }
      }
    }

    // --- rounds, A/B alternated (the order flips each round so drift cancels) ---
    // The bare ceilings are measured right next to the scenario they are compared with (hash
    // before password login, hello before the session check), so load drift on a shared machine
    // hits both sides of each ratio alike.
    const measureHash = async (round) => {
      log(`round ${round + 1}: bare argon2id ceiling`);
      const hash = await measureHashCeiling({ ...args.hash, seconds: args.durationSec, loops: args.hashLoops });
      results.ceilings.hash_rounds.push(hash);
      log(`  ${hash.verifies_per_s.toFixed(1)} verifies/s`);
    };
    const measureHello = async (round) => {
      log(`round ${round + 1}: bare Fastify /hello`);
      const h = await runLoad(
        { base: helloBase, path: "/hello", connections: args.connections },
        { pid: hello.pid, durationSec: args.durationSec },
      );
      results.ceilings.hello_rounds.push(h);
      log(`  ${h.ok_rps.toFixed(0)} req/s`);
    };
    for (let round = 0; round < args.rounds; round++) {
      log(`round ${round + 1}/${args.rounds}`);
      if (!wanted("login")) await measureHash(round);
      if (!wanted("me")) await measureHello(round);
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const sc of scenarios) {
        if (sc.key === "login") await measureHash(round);
        if (sc.key === "me") await measureHello(round);
        for (const { key, target } of order) {
          if (typeof target[`${sc.key}_spec`] !== "function") continue;
          const slot = ((results.scenarios[sc.key] ??= {})[key] ??= { rounds: [] });
          try {
            const connections = sc.hashBound ? args.hashConnections : args.connections;
            const spec = await target[`${sc.key}_spec`]({ connections, amount: args.mfaUsers });
            const measureLoop = sc.key === "login" && typeof target.eventLoop === "function";
            if (measureLoop) await target.eventLoop(); // resets prom-client's histogram
            const r = await runLoad(spec, { pid: target.pid, durationSec: args.durationSec });
            if (measureLoop) r.event_loop = await target.eventLoop();
            slot.rounds.push(r);
            const bound = r.count_bounded ? ` (count-bounded: ${r.amount} requests in ${r.seconds.toFixed(2)} s)` : "";
            const figures = `${r.ok_rps.toFixed(1)} req/s, p99 ${r.p99_ms} ms, failures ${r.failures}`;
            log(`  ${sc.key} ${target.label}: ${figures}${bound}`);
          } catch (error) {
            slot.rounds.push({ error: error.message });
            log(`  ${sc.key} ${target.label}: ERROR ${error.message}`);
          }
        }
      }

      if (wanted("mixed")) {
        for (const { key, target } of order) {
          const slot = (results.mixed[key] ??= { rounds: [] });
          try {
            const me = await target.me_spec({ connections: args.connections });
            const login = await target.login_spec({ connections: args.hashConnections });
            const {
              results: [a, b],
              rss_idle,
              rss_max,
            } = await runLoads([me, login], { pid: target.pid, durationSec: args.durationSec });
            slot.rounds.push({ me: a, login: b, rss_idle, rss_max });
            log(
              `  mixed ${target.label}: session check ${a.ok_rps.toFixed(0)} req/s (p99 ${a.p99_ms} ms) ` +
                `with ${b.ok_rps.toFixed(1)} logins/s`,
            );
          } catch (error) {
            slot.rounds.push({ error: error.message });
            log(`  mixed ${target.label}: ERROR ${error.message}`);
          }
        }
      }
    }
    // --- idle memory once the load is over: every target left alone for --idle seconds ---
    if (args.idleSec > 0 && targets.length) {
      log(`idle ${args.idleSec} s, then RSS`);
      await sleep(args.idleSec * 1000);
      for (const { key, target } of targets) {
        Object.assign((results.memory[key] ??= {}), {
          idle_rss: readRss(target.pid),
          idle_threads: readThreads(target.pid),
        });
      }
    }
  } catch (error) {
    results.errors.push(error.stack ?? String(error));
    log(`aborted: ${error.message}`);
  } finally {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (error) {
        results.errors.push(`cleanup: ${error.message}`);
      }
    }
  }

  summarize(results);
  results.machine.loadavg_at_end = loadavg();
  results.finished_at = new Date().toISOString();
  console.log(renderReport(results, { args, scenarios }));

  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${outFile}`);
}

await main();
