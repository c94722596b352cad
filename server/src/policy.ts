/*
 * The two-factor policy (SPEC §2 "Admin and policy") and role names, as text: what REQUIRE_2FA, the
 * `policy` table and PUT /api/admin/policy hold. Pure, no I/O; config.ts validates REQUIRE_2FA with it
 * and the session check evaluates it on every request (parsed once per distinct value).
 */

/** `off`, `all`, `admins`, or `role:NAME,…` (the users holding any of the named roles). */
export type RequireSecondFactorPolicy =
  { kind: "off" } | { kind: "all" } | { kind: "admins" } | { kind: "roles"; roles: readonly string[] };

/** The built-in role; every other role is a name an administrator gives. */
export const adminRole = "admin";

const roleNamePattern = /^[a-z][a-z0-9_-]{0,31}$/;

/** `[a-z][a-z0-9_-]{0,31}`: lower case, so a role name cannot pass for another. */
export function isRoleName(name: string): boolean {
  return roleNamePattern.test(name);
}

/** The policy a text names, or null when it is not one (an unknown word, a bad or empty role list). */
export function parsePolicy(text: string): RequireSecondFactorPolicy | null {
  if (text === "off" || text === "all" || text === "admins") return { kind: text };
  if (!text.startsWith("role:")) return null;
  const roles = text.slice("role:".length).split(",");
  if (roles.length > 32 || !roles.every(isRoleName)) return null;
  return { kind: "roles", roles: [...new Set(roles)] };
}

export function formatPolicy(policy: RequireSecondFactorPolicy): string {
  return policy.kind === "roles" ? `role:${policy.roles.join(",")}` : policy.kind;
}

/** Whether a user with these roles must have a second factor. Administrators always must. */
export function policyRequiresSecondFactor(policy: RequireSecondFactorPolicy, roles: readonly string[]): boolean {
  if (roles.includes(adminRole)) return true;
  if (policy.kind === "all") return true;
  if (policy.kind === "roles") return policy.roles.some((role) => roles.includes(role));
  return false;
}

const off: RequireSecondFactorPolicy = { kind: "off" };
const parsed = new Map<string, RequireSecondFactorPolicy>();

/**
 * The policy a stored value names, parsed once per distinct value (the session check reads it on every
 * request). A value that is no policy (never written by Tessera) counts as `all`: fail closed.
 */
export function storedPolicy(text: string | null): RequireSecondFactorPolicy {
  if (text === null) return off;
  let policy = parsed.get(text);
  if (policy === undefined) {
    policy = parsePolicy(text) ?? { kind: "all" };
    if (parsed.size >= 64) parsed.clear();
    parsed.set(text, policy);
  }
  return policy;
}
