import { describe, expect, it } from "vitest";
import { parseWords } from "../../src/cli/index.js";

const options = {
  help: { type: "boolean", short: "h" },
  user: { type: "string" },
  "redirect-uri": { type: "string", multiple: true },
} as const;

describe("the command line's arguments: IDs that begin with a dash", () => {
  // One base64url row ID in 64 begins with "-" (a CI run once drew "-K…" and the command refused it).
  const id = "-KxY0abcdefghijklmnop_";

  it("takes an ID that begins with a dash as the ID, wherever it stands", () => {
    expect(parseWords(["user", "remove-factor", "dana", id], options).positionals).toEqual([
      "user",
      "remove-factor",
      "dana",
      id,
    ]);
    expect(parseWords(["audit", "--user", id], options).values.user).toBe(id);
    expect(parseWords(["oidc", "clients", "add", "x", "--redirect-uri", id], options).values["redirect-uri"]).toEqual([
      id,
    ]);
    expect(parseWords(["user", "remove-factor", "dana", "--", "--also-an-id"], options).positionals).toContain(
      "--also-an-id",
    );
  });

  it("still refuses a mistyped option, and still reads the real ones", () => {
    expect(() => parseWords(["users", "list", "--bogus"], options)).toThrow(/Unknown option/);
    expect(() => parseWords(["users", "list", "-x"], options)).toThrow(/Unknown option/);
    const parsed = parseWords(["audit", "-h", "--user=alice"], options);
    expect(parsed.values).toEqual({ help: true, user: "alice" });
  });
});
