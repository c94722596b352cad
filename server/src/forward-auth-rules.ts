import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

/** What a protected site needs (SPEC "Other applications sign in through Tessera"). */
export type ForwardAuthPolicy = "one_factor" | "two_factor" | "deny";

export interface ForwardAuthRule {
  /** Exact host, or `*.domain` for every host below `domain`; lower-case, no port. */
  host: string;
  /** Regular expressions on the path; null: every path. */
  paths: RegExp[] | null;
  /** Roles allowed (any one of them); null: every signed-in user. */
  roles: string[] | null;
  policy: ForwardAuthPolicy;
}

export interface ForwardAuthRules {
  defaultPolicy: ForwardAuthPolicy;
  /** In file order: the first matching rule wins. */
  rules: ForwardAuthRule[];
}

const policies: readonly string[] = ["one_factor", "two_factor", "deny"];
const hostPattern = /^(\*\.)?((?!-)[a-z0-9-]{1,63}(?<!-))(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/** No file: every protected site is refused until the operator writes rules. */
export const denyAll: ForwardAuthRules = Object.freeze({ defaultPolicy: "deny", rules: [] });

/**
 * Reads FORWARD_AUTH_RULES (JSON or YAML, which JSON is a subset of) and validates every field. Each problem
 * is pushed as one line naming the file's rule (`FORWARD_AUTH_RULES rules[2].policy: …`); the result is
 * then not to be used.
 */
export function loadForwardAuthRules(path: string, problems: string[]): ForwardAuthRules {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    problems.push(`FORWARD_AUTH_RULES: cannot read "${path}" (${reason})`);
    return denyAll;
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: false, maxAliasCount: 0 });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : "not YAML or JSON";
    problems.push(`FORWARD_AUTH_RULES: "${path}" is not valid JSON or YAML: ${message}`);
    return denyAll;
  }
  return parseForwardAuthRules(document, problems);
}

/** Validates a parsed rules document; see loadForwardAuthRules. */
export function parseForwardAuthRules(document: unknown, problems: string[]): ForwardAuthRules {
  const at = (where: string, message: string): void => {
    problems.push(`FORWARD_AUTH_RULES ${where}: ${message}`);
  };
  if (!isObject(document)) {
    at("(file)", 'must be an object {"default_policy": …, "rules": […]}');
    return denyAll;
  }
  for (const key of Object.keys(document))
    if (key !== "default_policy" && key !== "rules") at(key, "unknown field (expected default_policy, rules)");
  const defaultPolicy = policyOf(document["default_policy"] ?? "deny", "default_policy", at);
  const listed = document["rules"] ?? [];
  if (!Array.isArray(listed)) {
    at("rules", "must be a list");
    return denyAll;
  }
  const rules = listed.map((rule: unknown, index) => ruleOf(rule, `rules[${index}]`, at));
  return { defaultPolicy, rules };
}

type Report = (where: string, message: string) => void;

function ruleOf(raw: unknown, where: string, at: Report): ForwardAuthRule {
  const fallback: ForwardAuthRule = { host: "", paths: null, roles: null, policy: "deny" };
  if (!isObject(raw)) {
    at(where, "must be an object with host and policy");
    return fallback;
  }
  for (const key of Object.keys(raw))
    if (!["host", "paths", "roles", "policy"].includes(key))
      at(`${where}.${key}`, "unknown field (expected host, paths, roles, policy)");
  const host = typeof raw["host"] === "string" ? raw["host"].trim().toLowerCase() : "";
  if (!hostPattern.test(host)) at(`${where}.host`, `must be a host name or *.domain, got ${show(raw["host"])}`);
  const policy = policyOf(raw["policy"], `${where}.policy`, at);
  const paths = listOf(raw["paths"], `${where}.paths`, at)?.flatMap((source, index) => {
    try {
      return [new RegExp(source)];
    } catch (error) {
      const reason = error instanceof Error ? error.message : "invalid";
      at(`${where}.paths[${index}]`, `not a valid regular expression: ${reason}`);
      return [];
    }
  });
  const roles = listOf(raw["roles"], `${where}.roles`, at) ?? null;
  return { host, paths: paths ?? null, roles, policy };
}

function policyOf(raw: unknown, where: string, at: Report): ForwardAuthPolicy {
  if (typeof raw === "string" && policies.includes(raw)) return raw as ForwardAuthPolicy;
  at(where, `must be one of ${policies.join(", ")}, got ${show(raw)}`);
  return "deny";
}

/** A non-empty list of non-empty strings; undefined when absent. */
function listOf(raw: unknown, where: string, at: Report): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((item) => typeof item === "string" && item !== "")) {
    at(where, "must be a non-empty list of strings");
    return undefined;
  }
  return raw as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value).slice(0, 80);
}
