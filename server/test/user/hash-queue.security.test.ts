/*
 * Attack: a login flood from many addresses (so no per-IP limit trips) that queues argon2 work
 * without bound: memory grows with the queue and every login, honest ones included, is answered
 * minutes late. The hasher lets a bounded number of jobs wait; past that it refuses at once with
 * 429 `rate_limited` and `Retry-After`, never a 5xx, and takes work again as soon as jobs finish.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createPasswordHasher } from "../../src/modules/user/password.js";

const cheap = { memoryKiB: 4096, iterations: 1, parallelism: 1 };

describe("bounded hashing queue", () => {
  it("refuses jobs past the bound at once (rate_limited, Retry-After), takes more once jobs finish", async () => {
    const hasher = createPasswordHasher(cheap, { maxPending: 3 });
    const stored = await hasher.hash("correct horse battery staple");
    const flood = Array.from({ length: 20 }, (_, i) =>
      hasher.verify(stored, i % 2 === 0 ? "correct horse battery staple" : "a wrong password guess"),
    );
    const settled = await Promise.allSettled(flood);
    const accepted = settled.filter((s) => s.status === "fulfilled");
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(17);
    for (const { reason } of refused) {
      expect(reason).toBeInstanceOf(AppError);
      expect(reason).toMatchObject({ code: "rate_limited", statusCode: 429, retryAfterSeconds: 1 });
    }
    // The accepted ones were really checked: the right password matched, the wrong one did not.
    expect(accepted.map((s) => (s.status === "fulfilled" ? s.value.valid : null))).toEqual([true, false, true]);
    expect((await hasher.verify(stored, "correct horse battery staple")).valid).toBe(true);
  });

  it("counts the dummy verification of unknown users and new hashes against the same bound", async () => {
    const hasher = createPasswordHasher(cheap, { maxPending: 1 });
    await hasher.verifyDummy("warm up the dummy hash");
    const results = await Promise.allSettled([
      hasher.verifyDummy("guess one"),
      hasher.hash("a new password here"),
      hasher.verifyDummy("guess two"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
  });
});
