import type { ForwardAuthPolicy, ForwardAuthRule, ForwardAuthRules } from "../../forward-auth-rules.js";
import type { AuthContext } from "../session/session.types.js";

/**
 * Forward authentication (SPEC "Other applications sign in through Tessera"): what a reverse proxy is
 * told about one request to a protected site, from FORWARD_AUTH_RULES and the site-wide session.
 */
export type ForwardAuthDecision =
  | { kind: "allow"; headers: Record<string, string> }
  /** No session, or one too weak for the site: sign in (again), then come back. */
  | { kind: "sign_in"; reason: "no_session" | "second_factor" }
  /** The rule refuses this user (`deny`, or none of its roles): signing in again would not help. */
  | { kind: "refuse" };

export interface ForwardAuthService {
  /** The rule of a URL's host and path (the first matching one), or the default policy. */
  ruleFor(url: URL): { policy: ForwardAuthPolicy; roles: string[] | null };
  decide(url: URL, auth: AuthContext | null): ForwardAuthDecision;
}

export function createForwardAuthService(rules: ForwardAuthRules): ForwardAuthService {
  const fallback = { policy: rules.defaultPolicy, roles: null };

  function ruleFor(url: URL): { policy: ForwardAuthPolicy; roles: string[] | null } {
    const host = url.hostname.toLowerCase().replace(/\.$/, "");
    const path = normalizedPath(url);
    const rule = rules.rules.find((candidate) => hostMatches(candidate, host) && pathMatches(candidate, path));
    return rule ?? fallback;
  }

  return {
    ruleFor,
    decide(url, auth) {
      const rule = ruleFor(url);
      if (rule.policy === "deny") return { kind: "refuse" };
      if (auth === null) return { kind: "sign_in", reason: "no_session" };
      if (rule.roles !== null && !rule.roles.some((role) => auth.roles.includes(role))) return { kind: "refuse" };
      // A session held in enrolment by the two-factor policy reaches nothing until a second factor is set up.
      if (auth.enrollmentRequired) return { kind: "sign_in", reason: "second_factor" };
      if (rule.policy === "two_factor" && auth.aal < 2) return { kind: "sign_in", reason: "second_factor" };
      return { kind: "allow", headers: identityHeaders(auth) };
    },
  };
}

function hostMatches(rule: ForwardAuthRule, host: string): boolean {
  return rule.host.startsWith("*.") ? host.endsWith(rule.host.slice(1)) : host === rule.host;
}

function pathMatches(rule: ForwardAuthRule, path: string): boolean {
  return rule.paths === null || rule.paths.some((pattern) => pattern.test(path));
}

const unreserved = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;

/**
 * The path as the application behind the proxy will most likely see it, so a rule on `^/admin` is not
 * stepped around with `/%61dmin`, `//admin` or `/x/../admin`: percent-encoded unreserved characters
 * decoded (RFC 3986 §6.2.2.2), runs of slashes made one, dot segments resolved. Encoded slashes stay encoded.
 */
export function normalizedPath(url: URL): string {
  const decoded = url.pathname.replace(unreserved, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  return new URL(decoded.replace(/\/{2,}/g, "/"), "http://x").pathname;
}

/** What the protected application is told about the user (nginx, Traefik and Caddy copy these on). */
function identityHeaders(auth: AuthContext): Record<string, string> {
  const user = auth.user;
  return {
    "remote-user": user.username,
    // Only an address the user has proved; an unverified one could be anyone's.
    "remote-email": user.email !== null && user.email_verified === 1 ? user.email : "",
    "remote-groups": auth.roles.join(","),
    "remote-aal": String(auth.aal),
  };
}
