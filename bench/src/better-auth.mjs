// The peer under test: better-auth (twoFactor plugin) in a child process, driven through the
// same kinds of load specs as Tessera. better-auth answers POSTs only with a trusted Origin.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SoftAuthenticator } from "./authenticator.mjs";
import { cookiesFrom, expectOk, mapLimit, request } from "./http.mjs";
import { freePort, startChild } from "./proc.mjs";
import { codeFor, currentStep, stepAfter, totpFromUri } from "./totp.mjs";

const PASSWORD = "Bench-Pass-8f2c-9d1e!quartz";
const serverScript = fileURLToPath(new URL("./better-auth-server.mjs", import.meta.url));

export async function startBetterAuth({ hash, log }) {
  const dataDir = mkdtempSync(join(tmpdir(), "better-auth-bench-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    NODE_ENV: "production",
    BA_DB_FILE: join(dataDir, "better-auth.db"),
    BA_SECRET: randomBytes(32).toString("hex"),
    PASSWORD_HASH_MEMORY_KIB: String(hash.memoryKiB),
    PASSWORD_HASH_ITERATIONS: String(hash.iterations),
    PASSWORD_HASH_PARALLELISM: String(hash.parallelism),
  };
  let child;
  try {
    child = await startChild({
      name: "better-auth",
      args: [serverScript],
      env,
      healthUrl: `${base}/healthz`,
      cwd: dataDir,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return new BetterAuthTarget({ base, child, dataDir, log });
}

class BetterAuthTarget {
  constructor({ base, child, dataDir, log }) {
    this.label = "better-auth";
    this.kind = "better-auth";
    this.base = base;
    this.child = child;
    this.pid = child.pid;
    this.dataDir = dataDir;
    this.log = log ?? (() => {});
    this.tag = Date.now().toString(36);
    this.counter = 0;
    this.origin = { origin: base };
    this.jsonHeaders = { "content-type": "application/json", origin: base };
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

  nextEmail(prefix) {
    return `${prefix}-${this.tag}-${this.counter++}@bench.test`;
  }

  post(path, json, cookie) {
    const headers = cookie ? { ...this.origin, cookie } : this.origin;
    return expectOk(this.base, "POST", path, { json, headers }, 200);
  }

  async signUp(email) {
    const res = await this.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: email.split("@")[0] });
    return { email, cookie: cookiesFrom(res.headers).join("; ") };
  }

  async signIn(email) {
    const res = await this.post("/api/auth/sign-in/email", { email, password: PASSWORD });
    return { body: res.body, cookie: cookiesFrom(res.headers).join("; ") };
  }

  /**
   * Users without 2FA, and users with TOTP enabled and verified (enable → verify-totp): `mfaCount`
   * timed, `warmupCount` for the untimed warm-up.
   */
  async prepareUsers({ plainCount, mfaCount, warmupCount = 0, concurrency = 8 }) {
    this.plainUsers = await mapLimit(Array.from({ length: plainCount }), concurrency, () =>
      this.signUp(this.nextEmail("plain")),
    );
    const enrolled = await mapLimit(Array.from({ length: mfaCount + warmupCount }), concurrency, async () => {
      const user = await this.signUp(this.nextEmail("mfa"));
      const enabled = await this.post("/api/auth/two-factor/enable", { password: PASSWORD }, user.cookie);
      const u = { email: user.email, totp: totpFromUri(enabled.body.totpURI), lastStep: -1 };
      await this.post("/api/auth/two-factor/verify-totp", { code: codeFor(u, currentStep()) }, user.cookie);
      return u;
    });
    this.mfaUsers = enrolled.slice(0, mfaCount);
    this.warmupUsers = enrolled.slice(mfaCount);
  }

  /** `count` users with a passkey of this.authenticator (generate-register-options → verify-registration). */
  async preparePasskeyUsers({ count, concurrency = 8 }) {
    this.passkeyUsers = await mapLimit(Array.from({ length: count }), concurrency, async () => {
      const user = await this.signUp(this.nextEmail("pk"));
      const res = await request(this.base, "GET", "/api/auth/passkey/generate-register-options", {
        headers: { ...this.origin, cookie: user.cookie },
      });
      if (res.status !== 200)
        throw new Error(`generate-register-options answered ${res.status}: ${JSON.stringify(res.body)}`);
      const cookie = [user.cookie, ...cookiesFrom(res.headers)].join("; ");
      const response = this.authenticator.create(res.body);
      await this.post("/api/auth/passkey/verify-registration", { response, name: "bench" }, cookie);
      return { email: user.email, credential: this.authenticator.credentials.at(-1) };
    });
  }

  // ---- scenarios ----

  /**
   * Passkey sign-in, one per iteration: GET /api/auth/passkey/generate-authenticate-options (the
   * challenge is kept server-side under a signed cookie) then POST /api/auth/passkey/verify-authentication
   * {response} with that cookie; the passkey users taken in turn; time-bounded.
   */
  async passkey_login_spec({ connections }) {
    let next = 0;
    return {
      base: this.base,
      method: "GET",
      path: "/api/auth/passkey/generate-authenticate-options",
      headers: this.origin,
      connections,
      iterations: true,
      requests: [
        {
          method: "GET",
          path: "/api/auth/passkey/generate-authenticate-options",
          onResponse: (status, body, context, headers) => {
            if (status !== 200) return;
            context.options = JSON.parse(body);
            const setCookie = Object.entries(headers).find(([name]) => name.toLowerCase() === "set-cookie")?.[1] ?? [];
            context.cookie = [setCookie]
              .flat()
              .map((line) => String(line).split(";")[0])
              .join("; ");
          },
        },
        {
          method: "POST",
          path: "/api/auth/passkey/verify-authentication",
          setupRequest: (req, context) => {
            const user = this.passkeyUsers[next++ % this.passkeyUsers.length];
            const response = context.options ? this.authenticator.get(context.options, user.credential) : {};
            return {
              ...req,
              method: "POST",
              path: "/api/auth/passkey/verify-authentication",
              headers: { ...this.jsonHeaders, cookie: context.cookie ?? "" },
              body: JSON.stringify({ response }),
            };
          },
        },
      ],
      check: (body) => typeof body?.session?.token === "string",
    };
  }

  async register_spec({ connections }) {
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/sign-up/email",
      headers: this.jsonHeaders,
      connections,
      requests: [
        {
          setupRequest: (req) => {
            const email = this.nextEmail("reg");
            return { ...req, body: JSON.stringify({ email, password: PASSWORD, name: "bench" }) };
          },
        },
      ],
    };
  }

  cyclingSignIn(users, connections, check) {
    let i = 0;
    const bodies = users.map((u) => JSON.stringify({ email: u.email, password: PASSWORD }));
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/sign-in/email",
      headers: this.jsonHeaders,
      connections,
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
      check,
    };
  }

  async login_spec({ connections }) {
    return this.cyclingSignIn(this.plainUsers, connections, (body) => typeof body.token === "string");
  }

  async login_mfa_spec({ connections }) {
    return this.cyclingSignIn(this.mfaUsers, connections, (body) => body.twoFactorRedirect === true);
  }

  /** N distinct users, each signed in (two-factor cookie) with its current code; count-bounded. */
  async mfa_login_spec({ connections, users = this.mfaUsers, concurrency = 8 }) {
    const cookies = await mapLimit(users, concurrency, async (u) => {
      const { body, cookie } = await this.signIn(u.email);
      if (body?.twoFactorRedirect !== true)
        throw new Error(`sign-in of a 2FA user did not redirect to 2FA: ${JSON.stringify(body).slice(0, 300)}`);
      return cookie;
    });
    // better-auth does not reject a reused code, but the users are paced the same way as Tessera's.
    const step = await stepAfter(users, this.log);
    const prepared = users.map((u, i) => ({ cookie: cookies[i], body: JSON.stringify({ code: codeFor(u, step) }) }));
    let i = 0;
    return {
      base: this.base,
      method: "POST",
      path: "/api/auth/two-factor/verify-totp",
      headers: this.jsonHeaders,
      connections: Math.min(connections, prepared.length), // autocannon needs amount >= connections
      amount: prepared.length,
      requests: [
        {
          setupRequest: (req) => {
            const p = prepared[i++ % prepared.length];
            return { ...req, headers: { ...req.headers, cookie: p.cookie }, body: p.body };
          },
        },
      ],
      check: (body) => typeof body.token === "string",
    };
  }

  async me_spec({ connections }) {
    const { cookie } = await this.signIn(this.plainUsers[0].email);
    return {
      base: this.base,
      method: "GET",
      path: "/api/auth/get-session",
      connections,
      headers: { cookie, origin: this.base },
      check: (body) => body !== null && typeof body.session === "object",
    };
  }
}
