// The bench's figures once measured: medians over rounds, ratios within rounds, the targets, and
// the report printed at the end (run.mjs measures, this file sums up).
import {
  evaluateTargets,
  renderCeilings,
  renderFailures,
  renderMemory,
  renderMixed,
  renderTables,
  renderTargets,
} from "./report.mjs";
import { median, ratio, summarizeRounds } from "./stats.mjs";

/** Adds to `results` the medians of every series, the paired ratios and the targets' verdicts. */
export function summarize(results) {
  const hr = results.ceilings.hash_rounds;
  results.ceilings.hash = hr.length
    ? {
        verifies_per_s: median(hr.map((r) => r.verifies_per_s)),
        event_loop_p99_s: median(hr.map((r) => r.event_loop_p99_s)),
        event_loop_max_s: median(hr.map((r) => r.event_loop_max_s)),
      }
    : null;
  results.ceilings.hello = summarizeRounds(results.ceilings.hello_rounds);
  for (const per of Object.values(results.scenarios)) {
    for (const slot of Object.values(per)) {
      const ok = slot.rounds.filter((r) => !r.error);
      slot.median = summarizeRounds(ok);
      if (!slot.median) slot.error = slot.rounds.find((r) => r.error)?.error ?? "no data";
    }
  }
  const loginRounds = results.scenarios.login?.tessera?.rounds.filter((r) => r.event_loop) ?? [];
  if (loginRounds.length) {
    const els = loginRounds.map((r) => r.event_loop);
    results.event_loop_during_login = {
      p99_s: median(els.map((e) => e.p99_s)),
      max_s: median(els.map((e) => e.max_s)),
      mean_s: median(els.map((e) => e.mean_s)),
      error: els.find((e) => e.error)?.error,
    };
  }
  for (const [key, slot] of Object.entries(results.mixed)) {
    const ok = slot.rounds.filter((r) => !r.error);
    if (!ok.length) {
      slot.error = slot.rounds.find((r) => r.error)?.error ?? "no data";
      continue;
    }
    const idle = results.scenarios.me?.[key]?.median;
    slot.me = summarizeRounds(ok.map((r) => r.me));
    slot.login = summarizeRounds(ok.map((r) => r.login));
    slot.rss_max = Math.max(...ok.map((r) => r.rss_max ?? 0));
    slot.idle_rps = idle?.ok_rps ?? null;
    slot.idle_p99_ms = idle?.p99_ms ?? null;
    slot.share = ratio(slot.me.ok_rps, slot.idle_rps);
  }
  results.paired = pairedRatios(results);
  if (results.mixed.tessera?.me) results.mixed.tessera.share = results.paired.mixed_me_share.median;
  if (results.mixed.better_auth?.me) results.mixed.better_auth.share = results.paired.mixed_get_session_share.median;
  results.targets = evaluateTargets(results);
}

/** The report printed at the end of a run. */
export function renderReport(results, { args, scenarios }) {
  const targetKeys = ["tessera", "tessera_pg", "tessera_mysql", "better_auth"].filter(
    (k) => Object.values(results.scenarios).some((per) => per[k]) || results.mixed[k],
  );
  const out = [];
  out.push(
    `Tessera bench — ${results.machine.cores} cores, ${results.machine.cpu_model}, Node ${results.machine.node}`,
  );
  const load = (values) => values.map((v) => v.toFixed(1)).join("/");
  out.push(
    `load average (1/5/15 min) at start ${load(results.machine.loadavg_at_start)}, ` +
      `at end ${load(results.machine.loadavg_at_end)} — anything else running on these cores is noise`,
  );
  out.push(
    `argon2id m=${args.hash.memoryKiB} KiB t=${args.hash.iterations} p=1; ${args.durationSec} s per scenario, ` +
      `${args.rounds} round(s), medians; ${args.connections} connections ` +
      `(${args.hashConnections} for hash-bound routes)`,
  );
  out.push("");
  out.push(renderTables(results, targetKeys, scenarios));
  out.push(
    `* count-bounded: ${args.mfaUsers} distinct users, each with a fresh login challenge and its current TOTP code ` +
      "(replay protection forbids reuse within a step); req/s = requests / elapsed.",
  );
  out.push(
    "† sign-ins/s: one iteration = the options request + the verify request (both counted in p50/p99), " +
      `counted when the verify answers 2xx; the second step is count-bounded (${args.mfaUsers} login tokens, ` +
      "one password login each, prepared), the passwordless sign-in time-bounded.",
  );
  out.push("");
  out.push(renderCeilings(results));
  if (results.memory) {
    out.push("");
    out.push(renderMemory(results.memory, targetKeys));
  }
  if (Object.keys(results.mixed).length) {
    out.push("");
    out.push(renderMixed(results.mixed, targetKeys));
  }
  out.push("");
  out.push(renderTargets(results.targets));
  const failures = renderFailures(results);
  if (failures) {
    out.push("");
    out.push("Failures (what the server answered):");
    out.push(failures);
  }
  return out.join("\n");
}

/**
 * Ratios taken within each round (both sides measured minutes apart at most), then the median
 * over rounds: steadier on a shared machine than a ratio of medians.
 */
function pairedRatios(results) {
  const ok = (r) => (r && !r.error ? r : null);
  const sc = (key, target) => results.scenarios[key]?.[target]?.rounds ?? [];
  const pairs = {
    login_vs_hash: sc("login", "tessera").map((r, i) =>
      ratio(ok(r)?.ok_rps, results.ceilings.hash_rounds[i]?.verifies_per_s),
    ),
    me_vs_hello: sc("me", "tessera").map((r, i) => ratio(ok(r)?.ok_rps, results.ceilings.hello_rounds[i]?.ok_rps)),
    me_vs_better_auth: sc("me", "tessera").map((r, i) => ratio(ok(r)?.ok_rps, ok(sc("me", "better_auth")[i])?.ok_rps)),
    mfa_login_vs_better_auth: sc("mfa_login", "tessera").map((r, i) =>
      ratio(ok(r)?.ok_rps, ok(sc("mfa_login", "better_auth")[i])?.ok_rps),
    ),
    passkey_2fa_vs_better_auth: sc("passkey_2fa", "tessera").map((r, i) =>
      ratio(ok(r)?.ok_rps, ok(sc("passkey_login", "better_auth")[i])?.ok_rps),
    ),
    passkey_login_vs_better_auth: sc("passkey_login", "tessera").map((r, i) =>
      ratio(ok(r)?.ok_rps, ok(sc("passkey_login", "better_auth")[i])?.ok_rps),
    ),
    forward_auth_vs_me: sc("forward_auth", "tessera").map((r, i) =>
      ratio(ok(r)?.ok_rps, ok(sc("me", "tessera")[i])?.ok_rps),
    ),
    pg_me_vs_sqlite: sc("me", "tessera_pg").map((r, i) => ratio(ok(r)?.ok_rps, ok(sc("me", "tessera")[i])?.ok_rps)),
    pg_mfa_login_vs_sqlite: sc("mfa_login", "tessera_pg").map((r, i) =>
      ratio(ok(r)?.ok_rps, ok(sc("mfa_login", "tessera")[i])?.ok_rps),
    ),
    mixed_me_share: (results.mixed.tessera?.rounds ?? []).map((m, i) =>
      ratio(ok(m)?.me?.ok_rps, ok(sc("me", "tessera")[i])?.ok_rps),
    ),
    mixed_get_session_share: (results.mixed.better_auth?.rounds ?? []).map((m, i) =>
      ratio(ok(m)?.me?.ok_rps, ok(sc("me", "better_auth")[i])?.ok_rps),
    ),
  };
  return Object.fromEntries(Object.entries(pairs).map(([k, rounds]) => [k, { rounds, median: median(rounds) }]));
}
