/*
 * FORWARD_AUTH_RULES is read and checked at start (SPEC: "A bad file stops the server with a line naming
 * the rule"): every mistake is one line that says which rule and which field.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createForwardAuthService } from "../../src/modules/forward-auth/forward-auth.service.js";
import { rulesFile, testRules } from "../support/forward-auth.js";

const load = (path: string) => loadConfig({ FORWARD_AUTH_RULES: path, DATA_DIR: "/tmp/tessera-rules-config" });

function problemsOf(text: string, name = "rules.yaml"): string[] {
  try {
    load(rulesFile(text, name));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("FORWARD_AUTH_RULES", () => {
  it("reads YAML and JSON, first matching rule first, default_policy deny unless set", () => {
    const rules = load(rulesFile(testRules)).forwardAuthRules;
    expect(rules.defaultPolicy).toBe("deny");
    expect(rules.rules.map((rule) => rule.policy)).toEqual([
      "one_factor",
      "two_factor",
      "deny",
      "one_factor",
      "one_factor",
    ]);
    const json = JSON.stringify({
      default_policy: "two_factor",
      rules: [{ host: "App.Example.com", paths: ["^/public"], policy: "one_factor" }],
    });
    const parsed = load(rulesFile(json, "rules.json")).forwardAuthRules;
    expect(parsed.defaultPolicy).toBe("two_factor");
    const service = createForwardAuthService(parsed);
    expect(service.ruleFor(new URL("https://app.example.com:8443/public/x")).policy).toBe("one_factor");
    expect(service.ruleFor(new URL("https://app.example.com/private")).policy).toBe("two_factor");
    expect(
      createForwardAuthService(load(rulesFile("rules: []")).forwardAuthRules).ruleFor(new URL("http://x/")).policy,
    ).toBe("deny");
  });

  it("refuses everything when no file is named", () => {
    const rules = loadConfig({ DATA_DIR: "/tmp/tessera-rules-config" }).forwardAuthRules;
    expect(rules).toEqual({ defaultPolicy: "deny", rules: [] });
  });

  it("names the rule and field of each mistake, one line each", () => {
    const problems = problemsOf(`
default_policy: allow
rules:
  - host: app.example.com
    policy: two_factors
  - host: "https://app.example.com/"
    policy: deny
  - host: "*.example.com"
    paths: ["^/(admin"]
    policy: one_factor
  - host: app.example.com
    roles: []
    policy: one_factor
  - host: app.example.com
    path: ["^/typo"]
    policy: one_factor
  - just a string
`);
    expect(problems).toEqual([
      'FORWARD_AUTH_RULES default_policy: must be one of one_factor, two_factor, deny, got "allow"',
      'FORWARD_AUTH_RULES rules[0].policy: must be one of one_factor, two_factor, deny, got "two_factors"',
      'FORWARD_AUTH_RULES rules[1].host: must be a host name or *.domain, got "https://app.example.com/"',
      expect.stringMatching(/^FORWARD_AUTH_RULES rules\[2\]\.paths\[0\]: not a valid regular expression: /),
      "FORWARD_AUTH_RULES rules[3].roles: must be a non-empty list of strings",
      "FORWARD_AUTH_RULES rules[4].path: unknown field (expected host, paths, roles, policy)",
      "FORWARD_AUTH_RULES rules[5]: must be an object with host and policy",
    ]);
  });

  it("says so when the file is missing, not YAML, or not an object", () => {
    expect(() => load("/nonexistent/rules.yaml")).toThrow(
      /FORWARD_AUTH_RULES: cannot read "\/nonexistent\/rules.yaml" \(ENOENT\)/,
    );
    expect(problemsOf("rules: [unclosed")).toEqual([
      expect.stringMatching(/^FORWARD_AUTH_RULES: ".*rules.yaml" is not valid JSON or YAML: /),
    ]);
    expect(problemsOf("- a\n- b")).toEqual([
      'FORWARD_AUTH_RULES (file): must be an object {"default_policy": …, "rules": […]}',
    ]);
    expect(problemsOf("rules: {host: a}")).toEqual(["FORWARD_AUTH_RULES rules: must be a list"]);
    expect(problemsOf("rule: []")).toEqual(["FORWARD_AUTH_RULES rule: unknown field (expected default_policy, rules)"]);
  });
});
