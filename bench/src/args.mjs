// Command-line flags for `npm run bench -- <flags>`.
import { parseArgs } from "node:util";

export const USAGE = `usage: npm run bench -- [flags]

  --quick               ~3 s per scenario, 1 round, fewer 2FA users (a smoke run)
  --duration N          seconds per time-bounded scenario (default 10, quick 3)
  --rounds N            A/B rounds; medians are reported (default 3, quick 1)
  --connections N       connections for the cheap routes (default 32)
  --hash-connections N  connections for argon2-bound routes: register, logins (default 16)
  --mfa-users N         2FA users prepared per target; /2fa/login is count-bounded by it
                        (default 3000, quick 1000)
  --warmup-users N      more 2FA users per target for one untimed /2fa/login pass before the
                        first round, so no target is timed while its JIT is cold (default 500,
                        quick 100; 0 skips it)
  --idle N              seconds every server sits idle after the load before its RSS is read
                        (default 60, quick 30; 0 skips it)
  --hash-memory KiB     argon2id memory (default 19456, OWASP)
  --hash-iterations N   argon2id iterations (default 2)
  --hash-loops N        concurrent verify loops for the bare hash ceiling (default 8)
  --only a,b            run only these scenarios (register, login, login_mfa, mfa_login,
                        passkey_login, passkey_2fa, me, forward_auth, refresh, jwks, mixed)
  --no-better-auth      skip the peer
  --no-tessera          skip Tessera (to check the harness against the peer alone)
  --profile             instead of the comparison: run Tessera under node --cpu-prof with the
                        /2fa/login, /me and passkey loads (or those --only names) and print the
                        top self-time functions
  --out FILE            JSON output (default bench/results/latest.json)
  -h, --help            this text

Environment: BENCH_POSTGRES_URL=postgres://user:pass@127.0.0.1/db also runs Tessera on a fresh
PostgreSQL database created next to that one (and dropped afterwards); BENCH_MYSQL_URL=mysql://user:pass@127.0.0.1/db
likewise on MySQL.`;

const OPTIONS = {
  quick: { type: "boolean", default: false },
  duration: { type: "string" },
  rounds: { type: "string" },
  connections: { type: "string" },
  "hash-connections": { type: "string" },
  "mfa-users": { type: "string" },
  "warmup-users": { type: "string" },
  idle: { type: "string" },
  "hash-memory": { type: "string" },
  "hash-iterations": { type: "string" },
  "hash-loops": { type: "string" },
  only: { type: "string" },
  "no-better-auth": { type: "boolean", default: false },
  "no-tessera": { type: "boolean", default: false },
  profile: { type: "boolean", default: false },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
};

/**
 * The root script runs `npm run bench -w bench`, so in `npm run bench -- --quick` npm takes the
 * flags as its own config and hands them over only as npm_config_* variables (a value given as
 * `--duration 5` is lost; `--duration=5` survives). Recover our flags from there.
 */
export function flagsFromNpmConfig(env) {
  if (!env.npm_lifecycle_event) return [];
  const flags = [];
  for (const [name, def] of Object.entries(OPTIONS)) {
    if (name === "help") continue;
    const bare = name.replace(/^no-/, "");
    const value = env[`npm_config_${bare.replace(/-/g, "_")}`];
    if (value === undefined) continue;
    if (def.type === "boolean") {
      if (name.startsWith("no-") ? value === "" || value === "false" : value === "true") flags.push(`--${name}`);
    } else if (value === "true" || value === "") {
      throw new Error(
        `npm kept --${name} for itself and dropped its value: ` +
          `write --${name}=VALUE (or run node bench/src/run.mjs directly)`,
      );
    } else {
      flags.push(`--${name}=${value}`);
    }
  }
  return flags;
}

export function readArgs(argv, env = process.env) {
  const { values } = parseArgs({ args: [...flagsFromNpmConfig(env), ...argv], options: OPTIONS, strict: true });
  const int = (name, fallback, min = 1) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const quick = values.quick;
  return {
    help: values.help,
    quick,
    profile: values.profile,
    durationSec: int("duration", quick ? 3 : 10),
    rounds: int("rounds", quick ? 1 : 3),
    connections: int("connections", 32),
    hashConnections: int("hash-connections", 16),
    mfaUsers: int("mfa-users", quick ? 1000 : 3000, 10),
    warmupUsers: int("warmup-users", quick ? 100 : 500, 0),
    idleSec: int("idle", quick ? 30 : 60, 0),
    hash: {
      memoryKiB: int("hash-memory", 19456, 1024),
      iterations: int("hash-iterations", 2),
      parallelism: 1,
    },
    hashLoops: int("hash-loops", 8),
    only: values.only
      ? new Set(
          values.only
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : null,
    betterAuth: !values["no-better-auth"],
    tessera: !values["no-tessera"],
    out: values.out ?? null,
  };
}
