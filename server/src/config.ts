import { resolve } from "node:path";
import { isProxyAddress, readEnv, type Env } from "./config-env.js";
import { cookieDomainOf } from "./cookie-domain.js";
import { parseSecretKeys } from "./crypto/encryption.js";
import { denyAll, loadForwardAuthRules, type ForwardAuthRules } from "./forward-auth-rules.js";
import { parsePolicy } from "./policy.js";

export interface PasswordHashConfig {
  /** argon2id memory in KiB. @default 19456 (OWASP: 19 MiB) */
  memoryKiB: number;
  /** argon2id passes. @default 2 */
  iterations: number;
  /** argon2id lanes. @default 1 */
  parallelism: number;
}

export interface Config {
  nodeEnv: string;
  port: number;
  host: string;
  /** Where users reach Tessera; links and the JWT issuer use it. */
  publicUrl: string;
  /** The access tokens' `aud` (RFC 9068). @default publicUrl */
  tokenAudience: string;
  /**
   * `COOKIE_DOMAIN`: the Domain of the site-wide session cookie (`tessera_session`), so the sites behind
   * forward-auth under it see the sign-in; PUBLIC_URL's host or a domain above it. null: host-only.
   */
  cookieDomain: string | null;
  /** FORWARD_AUTH_RULES: what each site behind forward-auth needs; without the file every site is refused. */
  forwardAuthRules: ForwardAuthRules;
  dataDir: string;
  /** Addresses or CIDRs of reverse proxies whose X-Forwarded-* headers are believed. */
  trustProxy: string[];
  corsOrigins: string[];
  /** Origins besides PUBLIC_URL's whose WebAuthn assertions are accepted (SPEC "Passkeys"). */
  webauthnOrigins: string[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How recent a sign-in must be for a sensitive action (SPEC "Re-authentication"). @default 600 */
  reauthMaxAgeSeconds: number;
  trustedDeviceDays: number;
  databaseUrl: string;
  /** DATABASE_POOL_SIZE: connections to PostgreSQL or MySQL; null: db/postgres.ts defaultPoolSize (cores × 2 + 1). */
  databasePoolSize: number | null;
  redisUrl: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  /** Raw `TESSERA_SECRET_KEY`; null means "generate or read DATA_DIR/secret.key". */
  secretKey: string | null;
  totpIssuer: string;
  logLevel: string;
  rateLimitEnabled: boolean;
  requireEmailVerification: boolean;
  /** REQUIRE_2FA: the two-factor policy's value on first start (SPEC §2 "Admin and policy"). @default "off" */
  require2fa: string;
  passwordHash: PasswordHashConfig;
  /** Directory of the built web UI; null disables serving it. */
  webDist: string | null;
  /** `Authorization: Bearer` value that opens /metrics to clients other than loopback; null: loopback only. */
  metricsToken: string | null;
  /** The development outbox (`GET /dev/mail`): on only without SMTP_URL and outside production. */
  devOutbox: boolean;
  http: HttpLimits;
}

/** What one client may hold of the HTTP server (SPEC §3 "Slow clients cannot hold the server"). */
export interface HttpLimits {
  /** All request headers must arrive within this. @default 10_000 */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. @default 30_000 */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. @default 5_000 */
  keepAliveTimeoutMs: number;
  /** Open connections one IP address may hold; more are closed at once. @default 64 */
  maxConnectionsPerIp: number;
}

export { readEnv };

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Parses and validates every variable; throws ConfigError naming each bad one on its own line. */
export function loadConfig(env: Env = readEnv(), defaults: { webDist?: string | null } = {}): Readonly<Config> {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value === "" ? fallback : value;
  };
  const optional = (name: string): string | null => {
    const value = env[name];
    return value === undefined || value === "" ? null : value;
  };
  /** A whole number from `min` to `max`; without `max`, any safe integer from `min` up. */
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      problems.push(`${name}: must be a whole number ${range}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "on", "yes"].includes(raw)) return true;
    if (["0", "false", "off", "no"].includes(raw)) return false;
    problems.push(`${name}: must be true or false (on/off), got "${env[name]}"`);
    return fallback;
  };
  const url = (name: string, value: string, protocols: string[]): string => {
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error("protocol");
    } catch {
      problems.push(`${name}: must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`);
    }
    return value;
  };
  const list = (name: string): string[] =>
    str(name, "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");

  const port = int("PORT", 8000, 0, 65535);
  const host = str("HOST", "127.0.0.1");
  const dataDir = resolve(str("DATA_DIR", "./data"));
  const publicUrl = url("PUBLIC_URL", str("PUBLIC_URL", `http://localhost:${port}`), ["http:", "https:"]).replace(
    /\/+$/,
    "",
  );
  const databaseUrl = str("DATABASE_URL", `sqlite:${resolve(dataDir, "tessera.db")}`);
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/|mysql:\/\/)/.test(databaseUrl)) {
    problems.push("DATABASE_URL: must start with sqlite:, postgres:// or mysql://");
  }
  const redisUrl = optional("REDIS_URL");
  if (redisUrl !== null) url("REDIS_URL", redisUrl, ["redis:", "rediss:"]);
  const smtpUrl = optional("SMTP_URL");
  if (smtpUrl !== null) {
    url("SMTP_URL", smtpUrl, ["smtp:", "smtps:"]);
    // `?starttls=off|required` is the one option read from the URL (modules/email/transports.ts).
    const starttls = URL.canParse(smtpUrl) ? new URL(smtpUrl).searchParams.get("starttls") : null;
    if (starttls !== null && starttls !== "off" && starttls !== "required")
      problems.push("SMTP_URL: ?starttls= must be off or required");
  }
  const trustProxy = list("TRUST_PROXY");
  const badProxies = trustProxy.filter((entry) => !isProxyAddress(entry));
  if (badProxies.length > 0) {
    problems.push(
      "TRUST_PROXY: must list IP addresses, CIDR ranges or loopback/linklocal/uniquelocal, " +
        `got "${badProxies.join(", ")}"`,
    );
  }
  const secretKey = optional("TESSERA_SECRET_KEY");
  if (secretKey !== null) {
    try {
      parseSecretKeys(secretKey);
    } catch (error) {
      // parseSecretKeys names the variable and never echoes key material.
      problems.push(error instanceof Error ? error.message : "TESSERA_SECRET_KEY: not valid");
    }
  }
  const corsOrigins = list("CORS_ORIGINS");
  for (const origin of corsOrigins) url("CORS_ORIGINS", origin, ["http:", "https:"]);
  const webauthnOrigins = list("WEBAUTHN_ORIGINS").map((origin) =>
    url("WEBAUTHN_ORIGINS", origin, ["http:", "https:"]),
  );
  const logLevel = str("LOG_LEVEL", "info");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const require2fa = str("REQUIRE_2FA", "off");
  if (parsePolicy(require2fa) === null)
    problems.push(`REQUIRE_2FA: must be off, all, admins or role:NAME,… (names [a-z][a-z0-9_-]{0,31})`);
  const webDistRaw = optional("WEB_DIST");
  const nodeEnv = str("NODE_ENV", "development");
  const http: HttpLimits = {
    headersTimeoutMs: int("HTTP_HEADERS_TIMEOUT", 10, 1, 600) * 1000,
    requestTimeoutMs: int("HTTP_REQUEST_TIMEOUT", 30, 1, 3600) * 1000,
    keepAliveTimeoutMs: int("HTTP_KEEP_ALIVE_TIMEOUT", 5, 1, 600) * 1000,
    maxConnectionsPerIp: int("MAX_CONNECTIONS_PER_IP", 64, 1, 100_000),
  };
  // Node refuses a header deadline later than the whole request's.
  if (http.headersTimeoutMs > http.requestTimeoutMs)
    problems.push("HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT");

  const rulesPath = optional("FORWARD_AUTH_RULES");
  const cookieDomain = cookieDomainOf(optional("COOKIE_DOMAIN"), publicUrl, problems);

  const config: Config = {
    nodeEnv,
    port,
    host,
    publicUrl,
    tokenAudience: str("TOKEN_AUDIENCE", publicUrl),
    cookieDomain,
    forwardAuthRules: rulesPath === null ? denyAll : loadForwardAuthRules(resolve(rulesPath), problems),
    dataDir,
    trustProxy,
    corsOrigins,
    webauthnOrigins: webauthnOrigins.map((origin) => (URL.canParse(origin) ? new URL(origin).origin : origin)),
    accessTokenTtlSeconds: int("ACCESS_TOKEN_TTL", 900, 30, 86_400),
    refreshTokenTtlSeconds: int("REFRESH_TOKEN_TTL", 60 * 60 * 24 * 30, 300, 60 * 60 * 24 * 365), // 30 days
    reauthMaxAgeSeconds: int("REAUTH_MAX_AGE", 60 * 10, 1), // 10 minutes
    trustedDeviceDays: int("TRUSTED_DEVICE_DAYS", 30, 0, 365),
    databaseUrl,
    databasePoolSize: optional("DATABASE_POOL_SIZE") === null ? null : int("DATABASE_POOL_SIZE", 1, 1, 1000),
    redisUrl,
    smtpUrl,
    mailFrom: str("MAIL_FROM", "Tessera <no-reply@localhost>"),
    secretKey,
    totpIssuer: str("TOTP_ISSUER", "Tessera"),
    logLevel,
    rateLimitEnabled: bool("RATE_LIMIT", true),
    requireEmailVerification: bool("REQUIRE_EMAIL_VERIFICATION", false),
    require2fa,
    passwordHash: {
      memoryKiB: int("PASSWORD_HASH_MEMORY_KIB", 19_456, 1024, 4_194_304),
      iterations: int("PASSWORD_HASH_ITERATIONS", 2, 1, 64),
      parallelism: int("PASSWORD_HASH_PARALLELISM", 1, 1, 16),
    },
    webDist: webDistRaw === null ? (defaults.webDist ?? null) : resolve(webDistRaw),
    metricsToken: optional("METRICS_TOKEN"),
    devOutbox: smtpUrl === null && nodeEnv !== "production",
    http,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
