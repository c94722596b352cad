import { createServer } from "node:net";
import * as client from "openid-client";
import { expect } from "vitest";
import { fixedClock } from "../../src/clock.js";
import { strongPassword, totpCode } from "./accounts.js";
import { appOn, type TestApp } from "./app.js";
import type { Json } from "./http.js";
import type { TestDialect } from "./dialects.js";

/** The redirect URI the suites register their clients with. */
export const redirectUri = "http://app.test/callback";

/** An authorization request to `redirectUri` with PKCE S256 (scope `openid` unless `extra` says), and its verifier. */
export async function pkceRequest(
  config: client.Configuration,
  extra: Record<string, string> = {},
): Promise<{ url: URL; verifier: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  });
  return { url, verifier };
}

/** A free TCP port on loopback (the OS picks one; it is released before the server takes it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface OidcTestServer extends TestApp {
  issuer: string;
  dropDatabase(): Promise<void>;
}

/**
 * Tessera listening on a real port with PUBLIC_URL (the issuer) set to it, on the real clock (the OIDC library
 * keeps real time), so a stock relying party can talk to it over HTTP.
 */
export async function oidcServer(dialect: TestDialect, env: Record<string, string> = {}): Promise<OidcTestServer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const t = await appOn(dialect, {
    env: { ...env, PUBLIC_URL: issuer },
    clock: fixedClock(Math.floor(Date.now() / 1000)),
  });
  await t.app.listen({ port, host: "127.0.0.1" });
  return { ...t, issuer };
}

/** A browser in a test: a cookie jar (names only; paths are the e2e suite's) following redirects by hand. */
export class CookieBrowser {
  readonly cookies = new Map<string, string>();

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === "" || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

/** Password then TOTP through the real HTTP API in `browser`: its session cookies, and the UI's access token. */
export async function browserSignIn(
  browser: CookieBrowser,
  t: OidcTestServer,
  username: string,
  secret: string,
): Promise<string> {
  const post = (path: string, body: object) =>
    browser.get(`${t.issuer}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const first = (await (await post("/api/auth/login", { username, password: strongPassword })).json()) as Json;
  const second = await post("/api/auth/2fa/login", {
    login_token: first["login_token"],
    code: totpCode(secret, t.clock),
  });
  expect(second.status).toBe(200);
  return String(((await second.json()) as Json)["access_token"]);
}

export interface RelyingParty {
  config: client.Configuration;
  redirectUri: string;
}

export async function relyingParty(
  issuer: string,
  registered: { client_id: string; client_secret?: string },
  redirectUri: string,
): Promise<RelyingParty> {
  const auth =
    registered.client_secret === undefined ? client.None() : client.ClientSecretBasic(registered.client_secret);
  const config = await client.discovery(new URL(issuer), registered.client_id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  return { config, redirectUri };
}

/**
 * Follows an authorization request through Tessera as the web UI does: to the interaction, its login step with
 * the access token of a signed-in person, consent when asked, and back. Returns the last redirect (the
 * application's callback URL with the code, or with an error) or the refusal the UI would show.
 */
export async function authorize(
  browser: CookieBrowser,
  issuer: string,
  authorizationUrl: URL | string,
  accessToken: string,
): Promise<{ callback: URL; steps: string[] } | { refusal: { status: number; body: Record<string, unknown> } }> {
  let location = String(authorizationUrl);
  const steps: string[] = [];
  for (let hop = 0; hop < 10; hop += 1) {
    if (!location.startsWith(issuer)) return { callback: new URL(location), steps };
    const res = await browser.get(location);
    if (res.status !== 303 && res.status !== 302) {
      throw new Error(`authorization stopped at ${location}: ${res.status} ${await res.text()}`);
    }
    location = new URL(res.headers.get("location") ?? "", issuer).href;
    const interaction = /\/oidc\/interaction\/([^/?]+)$/.exec(new URL(location).pathname);
    if (interaction === null) continue;
    const base = `${issuer}/oidc/interaction/${interaction[1]}`;
    const details = (await (await browser.get(`${base}/details`)).json()) as { prompt: string };
    steps.push(details.prompt);
    const step = await browser.get(`${base}/${details.prompt}`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const body = (await step.json()) as Record<string, unknown>;
    if (step.status !== 200) return { refusal: { status: step.status, body } };
    location = String(body["redirect_to"]);
  }
  throw new Error("too many redirects");
}

export function expectCallback(result: Awaited<ReturnType<typeof authorize>>): URL {
  expect(result, JSON.stringify(result)).toHaveProperty("callback");
  return (result as { callback: URL }).callback;
}
