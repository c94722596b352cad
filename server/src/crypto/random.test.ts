// crypto/random.ts hands out bytes from a pooled CSPRNG buffer: each byte once, across refills.
import { describe, expect, it } from "vitest";
import { randomBase64url, randomId, randomToken } from "./random.js";

describe("pooled random tokens", () => {
  it("gives the requested entropy as base64url", () => {
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomToken(256)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomBase64url(6)).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });

  it("never repeats a token, also across many pool refills", () => {
    // 20,000 × 32 bytes is about 156 refills of the 4 KiB pool.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(randomToken(256));
    expect(seen.size).toBe(20_000);
  });

  it("spreads its bytes evenly (no zeroed or reused pool regions)", () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 2_000; i++) {
      for (const byte of Buffer.from(randomToken(256), "base64url")) counts[byte] = (counts[byte] ?? 0) + 1;
    }
    // 64,000 bytes, 250 expected per value; a stuck or zero-filled region would pile up on a few values.
    expect(Math.max(...counts)).toBeLessThan(400);
    expect(Math.min(...counts)).toBeGreaterThan(130);
  });

  it("refuses sizes it cannot serve", () => {
    expect(() => randomBase64url(0)).toThrow(RangeError);
    expect(() => randomBase64url(4097)).toThrow(RangeError);
    expect(() => randomToken(120)).toThrow(RangeError);
  });
});
