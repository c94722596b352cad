/* The password hash's cost (SPEC §2 Accounts): argon2id at OWASP's parameters or above, by default. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createPasswordHasher } from "../../src/modules/user/password.js";
import { strongPassword } from "../support/accounts.js";

describe("password hashing defaults", () => {
  it("defaults to argon2id at or above OWASP's minimum (m=19 MiB, t=2, p=1)", async () => {
    const { passwordHash } = loadConfig({});
    expect(passwordHash.memoryKiB).toBeGreaterThanOrEqual(19_456);
    expect(passwordHash.iterations).toBeGreaterThanOrEqual(2);
    expect(passwordHash.parallelism).toBeGreaterThanOrEqual(1);
    const stored = await createPasswordHasher(passwordHash).hash(strongPassword);
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    expect(match, stored).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(19_456);
    expect(Number(match?.[2])).toBeGreaterThanOrEqual(2);
    expect(stored).not.toContain(strongPassword);
  });

  it("refuses to be configured below 1 MiB of memory", () => {
    expect(() => loadConfig({ PASSWORD_HASH_MEMORY_KIB: "8" })).toThrow(/PASSWORD_HASH_MEMORY_KIB/);
  });
});
