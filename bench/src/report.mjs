// Turns the collected figures into the human table (stdout) and the PASS/FAIL target lines.
import { ratio } from "./stats.mjs";

const MiB = 1024 * 1024;
const num = (v, digits = 0) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–");
const pct = (v) => (typeof v === "number" ? `${(v * 100).toFixed(0)}%` : "–");
const times = (v) => (typeof v === "number" ? `${v.toFixed(2)}×` : "–");
const mib = (v) => (typeof v === "number" ? (v / MiB).toFixed(0) : "–");
const mb = (v) => (typeof v === "number" ? `${(v / 1e6).toFixed(1)} MB` : "–");
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
  const fa = results.scenarios.forward_auth?.tessera?.median;
  const me = results.scenarios.me?.tessera?.median;
  if (fa || me) {
    lines.push(
      `forward-auth check (GET /api/forward-auth, nginx style): ${num(fa?.ok_rps)} req/s beside /api/user/me ` +
        `${num(me?.ok_rps)} req/s (${pct(results.paired?.forward_auth_vs_me?.median)} of it, same round)`,
    );
  }
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

/**
 * Target checks: [{ name, value, goal, pass, margin, shown }] – reported, never fatal. `margin` is how
 * far the value is past its line, as a share of the line (negative: short of it); SPEC §5 asks for 10%.
 * PostgreSQL and idle-memory lines are listed only when the run measured them.
 */
export function evaluateTargets(results) {
  const p = (key) => results.paired?.[key]?.median ?? null;
  const mem = results.memory?.tessera;
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
    {
      name: "passkey second step >= 5x better-auth passkey sign-in (options+verify pairs)",
      value: p("passkey_2fa_vs_better_auth"),
      goal: 5,
      fmt: times,
    },
  ];
  if (results.parameters?.postgres) {
    checks.push(
      { name: "PostgreSQL /api/user/me >= 50% of SQLite", value: p("pg_me_vs_sqlite"), goal: 0.5, fmt: pct },
      { name: "PostgreSQL /2fa/login >= 50% of SQLite", value: p("pg_mfa_login_vs_sqlite"), goal: 0.5, fmt: pct },
    );
  }
  if (mem) {
    const idle = results.parameters?.idle_s;
    checks.push(
      { name: "idle RSS after start <= 100 MB", value: mem.start_rss, goal: 100e6, fmt: mb, atMost: true },
      {
        name: `idle RSS ${idle} s after the load <= 100 MB`,
        value: mem.idle_rss,
        goal: 100e6,
        fmt: mb,
        atMost: true,
      },
    );
  }
  return checks.map((c) => {
    const known = typeof c.value === "number";
    const margin = known ? (c.atMost ? 1 - c.value / c.goal : c.value / c.goal - 1) : null;
    return {
      name: c.name,
      value: c.value,
      goal: c.goal,
      at_most: Boolean(c.atMost),
      pass: known ? margin >= 0 : null,
      margin,
      shown: c.fmt(c.value),
      line: c.fmt(c.goal),
    };
  });
}

export function renderTargets(targets) {
  const head = "Targets (each ratio taken within a round, median over rounds; margin = distance past the line):";
  const verdict = (c) => (c.pass === null ? "SKIP" : c.pass ? "PASS" : "FAIL");
  const margin = (c) =>
    typeof c.margin === "number" ? `, margin ${c.margin >= 0 ? "+" : ""}${(c.margin * 100).toFixed(0)}%` : "";
  return (
    head + "\n" + targets.map((c) => `${verdict(c)}  ${c.name}: ${c.shown} (line ${c.line}${margin(c)})`).join("\n")
  );
}

/** Resident memory of each target after start (no request served yet) and after sitting idle once the load is over. */
export function renderMemory(memory, targets) {
  const labels = { tessera: "Tessera", tessera_pg: "Tessera (pg)", better_auth: "better-auth" };
  const rows = targets
    .filter((k) => memory[k])
    .map((k) => {
      const m = memory[k];
      return [
        labels[k],
        `${mb(m.start_rss)} (${m.start_threads ?? "–"})`,
        `${mb(m.idle_rss)} (${m.idle_threads ?? "–"})`,
      ];
    });
  return table(["idle memory: RSS (threads)", "after start", `${memory.idle_s} s after the load`], rows);
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
