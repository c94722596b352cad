// Turns the collected figures into the human table (stdout) and the PASS/FAIL target lines.
import { ratio } from "./stats.mjs";

const MiB = 1024 * 1024;
const num = (v, digits = 0) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–");
const pct = (v) => (typeof v === "number" ? `${(v * 100).toFixed(0)}%` : "–");
const times = (v) => (typeof v === "number" ? `${v.toFixed(2)}×` : "–");
const mib = (v) => (typeof v === "number" ? (v / MiB).toFixed(0) : "–");
const lat = (s) => (s ? `${num(s.p50_ms, 1)} / ${num(s.p99_ms, 1)}` : "–");

function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) =>
    r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

const cellRps = (s) => {
  if (!s) return "n/a";
  if (s.error) return "ERROR";
  return num(s.ok_rps) + (s.count_bounded ? "*" : "");
};
const cellErr = (s) => (!s || s.error ? "–" : String(s.failures + (s.unexpected_bodies ?? 0)));

/** The main comparison table plus a memory table. `targets` is the ordered list of target keys. */
export function renderTables(results, targets, scenarios) {
  const labels = {
    tessera: "Tessera",
    tessera_pg: "Tessera (pg)",
    tessera_mysql: "Tessera (mysql)",
    better_auth: "better-auth",
  };
  const header = [
    "scenario",
    ...targets.map((t) => `${labels[t]} req/s`),
    "ratio T/BA",
    ...targets.map((t) => `${labels[t]} p50/p99 ms`),
    ...targets.map((t) => `${labels[t]} errors`),
  ];
  const rows = scenarios.map((sc) => {
    const per = results.scenarios[sc.key] ?? {};
    const t = per.tessera?.median;
    const b = per.better_auth?.median;
    return [
      sc.title,
      ...targets.map((k) => cellRps(per[k]?.error ? per[k] : per[k]?.median)),
      t && b ? times(ratio(t.ok_rps, b.ok_rps)) : "–",
      ...targets.map((k) => lat(per[k]?.median)),
      ...targets.map((k) => cellErr(per[k]?.median ?? per[k])),
    ];
  });
  const memHeader = ["scenario", ...targets.map((t) => `${labels[t]} RSS idle / max MiB`)];
  const memRows = scenarios.map((sc) => {
    const per = results.scenarios[sc.key] ?? {};
    return [
      sc.title,
      ...targets.map((k) => (per[k]?.median ? `${mib(per[k].median.rss_idle)} / ${mib(per[k].median.rss_max)}` : "–")),
    ];
  });
  return `${table(header, rows)}\n\n${table(memHeader, memRows)}`;
}

export function renderMixed(mixed, targets) {
  const labels = {
    tessera: "Tessera GET /api/user/me",
    tessera_pg: "Tessera (pg) GET /api/user/me",
    tessera_mysql: "Tessera (mysql) GET /api/user/me",
    better_auth: "better-auth GET /get-session",
  };
  const rows = targets
    .filter((k) => mixed[k])
    .map((k) => {
      const m = mixed[k];
      if (m.error) return [labels[k], "ERROR", "–", "–", "–", "–", "–"];
      return [
        labels[k],
        num(m.idle_rps),
        num(m.me.ok_rps),
        pct(m.share),
        `${num(m.idle_p99_ms, 1)} → ${num(m.me.p99_ms, 1)}`,
        num(m.login.ok_rps, 1),
        `${mib(m.rss_max)}`,
      ];
    });
  return table(
    [
      "session check while logins saturate the hash pool",
      "idle req/s",
      "under load req/s",
      "share",
      "p99 ms idle → load",
      "logins/s meanwhile",
      "max RSS MiB",
    ],
    rows,
  );
}

export function renderCeilings(results) {
  const c = results.ceilings;
  const lines = [
    `bare argon2id verify (m=${results.parameters.hash.memoryKiB} KiB, t=${results.parameters.hash.iterations}, ` +
      `p=1, ${results.parameters.hash_loops} loops): ${num(c.hash?.verifies_per_s, 1)} verifies/s`,
    `bare Fastify GET /hello: ${num(c.hello?.ok_rps)} req/s, p50/p99 ${lat(c.hello)} ms`,
  ];
  const el = results.event_loop_during_login;
  const ms = (v) => (typeof v === "number" ? `${(v * 1000).toFixed(1)} ms` : "–");
  if (el) {
    lines.push(
      `Tessera event-loop delay during password login: p99 ${ms(el.p99_s)}, max ${ms(el.max_s)} ` +
        `(prom-client /metrics, 10 ms resolution)${el.error ? ` [${el.error}]` : ""}`,
    );
    lines.push(
      "  baseline, an idle main thread while argon2 saturates the cores (hash ceiling run): " +
        `p99 ${ms(c.hash?.event_loop_p99_s)}, max ${ms(c.hash?.event_loop_max_s)}`,
    );
  }
  return lines.join("\n");
}

/** Target checks: [{ name, value, goal, pass }] – reported, never fatal. */
export function evaluateTargets(results) {
  const p = (key) => results.paired?.[key]?.median ?? null;
  const checks = [
    { name: "password login >= 90% of the bare argon2id rate", value: p("login_vs_hash"), goal: 0.9, fmt: pct },
    { name: "/api/user/me >= 10x better-auth /get-session", value: p("me_vs_better_auth"), goal: 10, fmt: times },
    {
      name: "/2fa/login >= 10x better-auth /two-factor/verify-totp",
      value: p("mfa_login_vs_better_auth"),
      goal: 10,
      fmt: times,
    },
    { name: "/api/user/me >= 50% of bare Fastify /hello", value: p("me_vs_hello"), goal: 0.5, fmt: pct },
    { name: "under login load /me keeps >= 50% of its idle rate", value: p("mixed_me_share"), goal: 0.5, fmt: pct },
  ];
  return checks.map((c) => ({
    name: c.name,
    value: c.value,
    goal: c.goal,
    pass: typeof c.value === "number" ? c.value >= c.goal : null,
    shown: c.fmt(c.value),
  }));
}

export function renderTargets(targets) {
  const head = "Targets (each ratio taken within a round, median over rounds):";
  return (
    head +
    "\n" +
    targets.map((c) => `${c.pass === null ? "SKIP" : c.pass ? "PASS" : "FAIL"}  ${c.name}: ${c.shown}`).join("\n")
  );
}

/** Failures with what the server answered, so server bugs are visible rather than hidden. */
export function renderFailures(results) {
  const lines = [];
  for (const [key, per] of Object.entries(results.scenarios)) {
    for (const [target, r] of Object.entries(per)) {
      if (r.error) lines.push(`${key} / ${target}: ${r.error}`);
      for (const round of r.rounds ?? []) {
        if (round.error) lines.push(`${key} / ${target}: ${round.error}`);
        for (const sample of round.failure_samples ?? [])
          lines.push(
            `${key} / ${target}: HTTP ${sample.status}${sample.note ? ` (${sample.note})` : ""} ${sample.body}`,
          );
      }
    }
  }
  for (const [target, m] of Object.entries(results.mixed ?? {})) {
    if (m.error) lines.push(`mixed / ${target}: ${m.error}`);
  }
  for (const e of results.errors ?? []) lines.push(e);
  return [...new Set(lines)].slice(0, 40).join("\n");
}
