// Tessera under test: start `node server/dist/main.js` on a fresh database, prepare users and
// tokens outside the timed runs, and describe each scenario as an autocannon load spec.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverCommand } from "../../scripts/node-flags.mjs";
import { SoftAuthenticator } from "./authenticator.mjs";
import { expectOk, mapLimit, request } from "./http.mjs";
import { freePort, startChild } from "./proc.mjs";
import { codeFor, currentStep, stepAfter, totpFromUri } from "./totp.mjs";

const PASSWORD = "Bench-Pass-8f2c-9d1e!quartz";
const JSON_HEADERS = { "content-type": "application/json" };

/**
 * Starts Tessera. `databaseUrl` defaults to a fresh SQLite file in a temp DATA_DIR. It runs with the
 * node flags `npm start` uses (scripts/node-flags.mjs; TESSERA_NODE_FLAGS overrides them for both);
 * `nodeArgs` adds more (the profiler's --cpu-prof).
 */
export async function startTessera({ serverMain, hash, databaseUrl, label = "Tessera", nodeArgs = [], log }) {
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Forward-auth: one rule for the site the load asks about, as an nginx in front of it would.
  const rules = join(dataDir, "forward-auth.yaml");
  writeFileSync(rules, "default_policy: deny\nrules:\n  - host: app.bench.test\n    policy: one_factor\n");
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl ?? `sqlite:${join(dataDir, "tessera.db")}`,
    NODE_ENV: "production",
    PUBLIC_URL: base,
    RATE_LIMIT: "off",
    // The load generator is one client on one address: the per-IP connection cap is for strangers.
    MAX_CONNECTIONS_PER_IP: "10000",
    LOG_LEVEL: "warn",
    FORWARD_AUTH_RULES: rules,
    TRUST_PROXY: "127.0.0.1",
    PASSWORD_HASH_MEMORY_KIB: String(hash.memoryKiB),
    PASSWORD_HASH_ITERATIONS: String(hash.iterations),
    PASSWORD_HASH_PARALLELISM: String(hash.parallelism),
  };
  const launch = (args) => {
    const command = serverCommand(serverMain, { ...process.env, ...env }, args);
    return startChild({
      name: label,
      args: command.args,
      env: command.env,
      healthUrl: `${base}/healthz`,
      cwd: dataDir,
    });
  };
  let child;
  try {
    child = await launch(nodeArgs);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return new TesseraTarget({ label, base, child, dataDir, log, launch });
}

class TesseraTarget {
  constructor({ label, base, child, dataDir, log, launch }) {
    this.launch = launch;
    this.label = label;
    this.kind = "tessera";
    this.base = base;
    this.child = child;
    this.pid = child.pid;
    this.dataDir = dataDir;
    this.log = log ?? (() => {});
    this.tag = Date.now().toString(36);
    this.counter = 0;
    this.plainUsers = [];
    this.mfaUsers = [];
    this.passkeyUsers = [];
    this.authenticator = new SoftAuthenticator(base);
  }

  async stop() {
    const result = await this.child.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    return result;
  }

  /** Stops the server and starts it again on the same port and data (e.g. under --cpu-prof). */
  async restart(nodeArgs = []) {
    await this.child.stop();
    this.child = await this.launch(nodeArgs);
    this.pid = this.child.pid;
  }

  nextName(prefix) {
    return `${prefix}-${this.tag}-${this.counter++}`;
  }

  async register(username) {
    const res = await expectOk(
      this.base,
      "POST",
      "/api/auth/register",
      { json: { username, password: PASSWORD } },
      201,
    );
    return { username, access: res.body.access_token, refresh: res.body.refresh_token };
  }

  async login(username) {
    return (await expectOk(this.base, "POST", "/api/auth/login", { json: { username, password: PASSWORD } }, 200)).body;
  }

  /**
   * Users without 2FA (login, /me, refresh), `mfaCount` users enrolled in TOTP and `warmupCount`
   * more for the untimed warm-up.
   */
  async prepareUsers({ plainCount, mfaCount, warmupCount = 0, concurrency = 8 }) {
    this.plainUsers = await mapLimit(Array.from({ length: plainCount }), concurrency, () =>
      this.register(this.nextName("plain")),
    );
    const enrolled = await mapLimit(Array.from({ length: mfaCount + warmupCount }), concurrency, async () => {
      const user = await this.register(this.nextName("mfa"));
      const auth = { authorization: `Bearer ${user.access}` };
      const setup = await expectOk(this.base, "POST", "/api/auth/2fa/setup", { headers: auth, json: {} });
      const totp = totpFromUri(setup.body.otpauth_url);
      const step = currentStep();
      const user2 = { username: user.username, totp, lastStep: -1 };
      await expectOk(this.base, "POST", "/api/auth/2fa/verify-setup", {
        headers: auth,
        json: { code: codeFor(user2, step) },
      });
      return user2;
    });
    this.mfaUsers = enrolled.slice(0, mfaCount);
    this.warmupUsers = enrolled.slice(mfaCount);
  }

  /** `count` users whose only second factor is a passkey of this.authenticator (so two-factor is on). */
  async preparePasskeyUsers({ count, concurrency = 8 }) {
    this.passkeyUsers = await mapLimit(Array.from({ length: count }), concurrency, async () => {
      const user = await this.register(this.nextName("pk"));
      const headers = { authorization: `Bearer ${user.access}` };
      const options = await expectOk(this.base, "POST", "/api/auth/passkeys/register/options", { headers, json: {} });
      const response = this.authenticator.create(options.body);
      await expectOk(this.base, "POST", "/api/auth/passkeys/register/verify", {
        headers,
        json: { response, name: "bench" },
      });
      return { username: user.username, credential: this.authenticator.credentials.at(-1) };
    });
  }

  // ---- scenarios: each returns an autocannon load spec (data prepared before the timing) ----

  async register_spec({ connections }) {
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/register",
      headers: JSON_HEADERS,
      connections,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ username: this.nextName("reg"), password: PASSWORD }),
          }),
        },
      ],
      expect: (status) => status === 201,
    };
  }

  cyclingLogin(users, connections, check) {
    let i = 0;
    const bodies = users.map((u) => JSON.stringify({ username: u.username, password: PASSWORD }));
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/login",
      headers: JSON_HEADERS,
      connections,
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
      check,
    };
  }

  async login_spec({ connections }) {
    return this.cyclingLogin(this.plainUsers, connections, (body) => typeof body.access_token === "string");
  }

  async login_mfa_spec({ connections }) {
    return this.cyclingLogin(this.mfaUsers, connections, (body) => body.mfa_required === true);
  }

  /** N distinct users, each with a fresh login_token and its current code; count-bounded. */
  async mfa_login_spec({ connections, users = this.mfaUsers, concurrency = 8 }) {
    const tokens = await mapLimit(users, concurrency, async (u) => {
      const body = await this.login(u.username);
      if (body.mfa_required !== true)
        throw new Error(`login of a 2FA user did not ask for 2FA: ${JSON.stringify(body).slice(0, 300)}`);
      return body.login_token;
    });
    const step = await stepAfter(users, this.log);
    const bodies = users.map((u, i) => JSON.stringify({ login_token: tokens[i], code: codeFor(u, step) }));
    let i = 0;
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/2fa/login",
      headers: JSON_HEADERS,
      connections: Math.min(connections, bodies.length), // autocannon needs amount >= connections
      amount: bodies.length,
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
      check: (body) => typeof body.access_token === "string",
    };
  }

  /**
   * The passkey second step, one sign-in per iteration: POST /api/auth/2fa/webauthn/options
   * {login_token} then POST /api/auth/2fa/login {login_token, webauthn}. Each login_token (one
   * password login each, prepared) is used once, so the run is count-bounded at `amount` sign-ins.
   */
  async passkey_2fa_spec({ connections, amount, concurrency = 8 }) {
    const n = Math.max(connections, Math.round(amount / connections) * connections); // whole iterations per connection
    const users = Array.from({ length: n }, (_, i) => this.passkeyUsers[i % this.passkeyUsers.length]);
    const tokens = await mapLimit(users, concurrency, async (u) => {
      const body = await this.login(u.username);
      if (body.mfa_required !== true || !body.methods?.includes("webauthn"))
        throw new Error(`login of a passkey user did not offer webauthn: ${JSON.stringify(body).slice(0, 300)}`);
      return body.login_token;
    });
    let next = 0;
    return {
      base: this.base,
      method: "POST",
      headers: JSON_HEADERS,
      path: "/api/auth/2fa/webauthn/options",
      connections: Math.min(connections, n),
      amount: 2 * n, // autocannon counts requests: an options and a verify per sign-in
      iterations: true,
      requests: [
        {
          path: "/api/auth/2fa/webauthn/options",
          setupRequest: (req, context) => {
            context.token = tokens[next++] ?? "tokens-exhausted";
            return { ...req, body: JSON.stringify({ login_token: context.token }) };
          },
          onResponse: (status, body, context) => {
            if (status === 200) context.options = JSON.parse(body);
          },
        },
        {
          path: "/api/auth/2fa/login",
          setupRequest: (req, context) => {
            const webauthn = context.options ? this.authenticator.get(context.options) : {};
            return {
              ...req,
              path: "/api/auth/2fa/login",
              body: JSON.stringify({ login_token: context.token, webauthn }),
            };
          },
        },
      ],
      check: (body) => typeof body.access_token === "string",
    };
  }

  /**
   * Passwordless sign-in, one per iteration: POST /api/auth/passkeys/login/options then
   * POST /api/auth/passkeys/login/verify {response}, the passkey users taken in turn; time-bounded.
   */
  async passkey_login_spec({ connections }) {
    let next = 0;
    return {
      base: this.base,
      method: "POST",
      headers: JSON_HEADERS,
      path: "/api/auth/passkeys/login/options",
      connections,
      iterations: true,
      requests: [
        {
          path: "/api/auth/passkeys/login/options",
          body: "{}",
          onResponse: (status, body, context) => {
            if (status === 200) context.options = JSON.parse(body);
          },
        },
        {
          path: "/api/auth/passkeys/login/verify",
          setupRequest: (req, context) => {
            const user = this.passkeyUsers[next++ % this.passkeyUsers.length];
            const response = context.options ? this.authenticator.get(context.options, user.credential) : {};
            return { ...req, path: "/api/auth/passkeys/login/verify", body: JSON.stringify({ response }) };
          },
        },
      ],
      check: (body) => typeof body.access_token === "string",
    };
  }

  async me_spec({ connections }) {
    const user = this.plainUsers[0];
    // A fresh access token (the registration one may be near expiry in a long run).
    const tokens = await this.login(user.username);
    return {
      base: this.base,
      method: "GET",
      path: "/api/user/me",
      connections,
      headers: { authorization: `Bearer ${tokens.access_token}` },
    };
  }

  /** What nginx's auth_request asks for every request to a protected site: the site-wide session cookie. */
  async forward_auth_spec({ connections }) {
    const user = this.plainUsers[0];
    const res = await expectOk(this.base, "POST", "/api/auth/login", {
      json: { username: user.username, password: PASSWORD },
    });
    const session = res.headers.getSetCookie().find((c) => c.startsWith("tessera_session="));
    if (session === undefined) throw new Error("login set no tessera_session cookie");
    return {
      base: this.base,
      method: "GET",
      path: "/api/forward-auth",
      connections,
      headers: { cookie: session.split(";")[0], "x-original-url": "http://app.bench.test/page" },
    };
  }

  /**
   * Each refresh token is single use: a pool of live tokens (one login each) is handed out,
   * and every successful refresh puts the new token back, so the run stays time-bounded.
   */
  async refresh_spec({ connections, concurrency = 8 }) {
    const poolSize = connections * 2;
    const users = Array.from({ length: poolSize }, (_, i) => this.plainUsers[i % this.plainUsers.length]);
    const pool = await mapLimit(users, concurrency, async (u) => (await this.login(u.username)).refresh_token);
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/token/refresh",
      headers: JSON_HEADERS,
      connections,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ refresh_token: pool.shift() ?? "pool-exhausted" }),
          }),
          onResponse: (status, body) => {
            if (status === 200) pool.push(JSON.parse(body).refresh_token);
          },
        },
      ],
      note: `pool of ${poolSize} refresh tokens, each rotated token reused`,
    };
  }

  async jwks_spec({ connections }) {
    return { base: this.base, method: "GET", path: "/.well-known/jwks.json", connections };
  }

  /** Reads /metrics; returns the event-loop p99 and max (seconds) since the previous read. */
  async eventLoop() {
    const res = await request(this.base, "GET", "/metrics");
    if (res.status !== 200) return { error: `GET /metrics answered ${res.status}` };
    const text = String(res.body);
    const pick = (name) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
      return match ? Number(match[1]) : null;
    };
    return {
      p99_s: pick("nodejs_eventloop_lag_p99_seconds"),
      max_s: pick("nodejs_eventloop_lag_max_seconds"),
      mean_s: pick("nodejs_eventloop_lag_mean_seconds"),
    };
  }
}
