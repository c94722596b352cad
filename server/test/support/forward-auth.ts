import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { register, strongPassword } from "./accounts.js";
import type { TestApp } from "./app.js";
import { cookie } from "./cookies.js";
import { send, str, type Reply } from "./http.js";
import { browserGet, type HttpReply } from "./nginx.js";

/** The rules the forward-auth suites protect `app.tessera.test` with (PUBLIC_URL is http://tessera.test). */
export const testRules = `
default_policy: deny
rules:
  - host: app.tessera.test
    paths: ["^/admin"]
    roles: [ops]
    policy: one_factor
  - host: app.tessera.test
    paths: ["^/secure"]
    policy: two_factor
  - host: app.tessera.test
    paths: ["^/closed"]
    policy: deny
  - host: app.tessera.test
    policy: one_factor
  - host: "*.wild.tessera.test"
    policy: one_factor
`;

/** Writes a rules file to a fresh temporary directory; its path. */
export function rulesFile(text: string = testRules, name = "rules.yaml"): string {
  const path = join(mkdtempSync(join(tmpdir(), "tessera-rules-")), name);
  writeFileSync(path, text);
  return path;
}

/** The environment of an app serving forward-auth for *.tessera.test behind a proxy on loopback. */
export function forwardAuthEnv(rules: string = rulesFile()): Record<string, string> {
  return { FORWARD_AUTH_RULES: rules, COOKIE_DOMAIN: "tessera.test", TRUST_PROXY: "127.0.0.1" };
}

type Style = "nginx" | "traefik";

/** What a proxy asks about a browser's request to `url` (carrying `session`, the tessera_session cookie). */
export async function check(
  t: TestApp,
  url: string,
  options: { session?: string; style?: Style; method?: string; remoteAddress?: string } = {},
): Promise<Reply> {
  const target = new URL(url);
  const headers: Record<string, string> =
    options.style === "nginx"
      ? { "x-original-url": url, "x-original-method": options.method ?? "GET" }
      : {
          "x-forwarded-proto": target.protocol.slice(0, -1),
          "x-forwarded-host": target.host,
          "x-forwarded-uri": target.pathname + target.search,
          "x-forwarded-method": options.method ?? "GET",
        };
  return send(t.app, {
    method: "GET",
    url: "/api/forward-auth",
    headers,
    ...(options.session === undefined ? {} : { cookies: { tessera_session: options.session } }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
}

export const loginFor = (url: string): string => `http://tessera.test/login?rd=${encodeURIComponent(url)}`;

/**
 * A browser at `app.tessera.test` behind the proxy listening on `port()` (nginx, Caddy): visits with or without
 * the site cookie, what the app behind the proxy was sent, and a sign-in through Tessera that sets the cookie.
 */
export function siteBehindProxy(t: () => TestApp, port: () => number) {
  return {
    visit: (path: string, session?: string, headers: Record<string, string> = {}): Promise<HttpReply> =>
      browserGet(port(), "app.tessera.test", path, {
        ...headers,
        ...(session === undefined ? {} : { cookie: `other=1; tessera_session=${encodeURIComponent(session)}` }),
      }),
    seenBy: (reply: HttpReply): Record<string, string> =>
      (JSON.parse(reply.body) as { headers: Record<string, string> }).headers,
    /** Registers `username` and signs in: the site cookie and the access token. */
    async signIn(username: string): Promise<{ session: string; token: string }> {
      await register(t().app, username);
      const res = await send(t().app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username, password: strongPassword },
      });
      expect(res.status, res.text).toBe(200);
      return { session: cookie(res.headers, "tessera_session").value, token: str(res.body["access_token"]) };
    },
  };
}
