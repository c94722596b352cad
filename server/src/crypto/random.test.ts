// crypto/random.ts hands out bytes from a pooled CSPRNG buffer: each byte once, across refills.
import { describe, expect, it } from "vitest";
import { randomBase64url, randomId, randomToken, sequencedTimeId, timeOrderedId } from "./random.js";

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

describe("time-ordered row IDs", () => {
  const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const last = 36 ** 9 - 1;

  it("spells the time in 9 base-36 digits, then 128 random bits", () => {
    const id = timeOrderedId(Date.UTC(2026, 11, 5));
    expect(id).toMatch(/^[0-9a-z]{9}[A-Za-z0-9_-]{22}$/);
    expect(Number.parseInt(id.slice(0, 9), 36)).toBe(Date.UTC(2026, 11, 5));
    expect(Buffer.from(id.slice(9), "base64url")).toHaveLength(16);
    expect(timeOrderedId(0).slice(0, 9)).toBe("000000000");
    expect(timeOrderedId(last).slice(0, 9)).toBe("zzzzzzzzz");
    expect(timeOrderedId(35).slice(0, 9)).toBe("00000000z");
    expect(timeOrderedId(36).slice(0, 9)).toBe("000000010");
    expect(timeOrderedId(0, 6)).toMatch(/^0{9}[A-Za-z0-9_-]{8}$/);
    const seen = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_000)));
    expect(seen.size).toBe(10_000);
  });

  it("sorts byte by byte (SQLite's and PostgreSQL's C order) as the times it was made at", () => {
    const times = [
      0,
      1,
      35,
      36,
      37,
      1295,
      1296,
      Date.UTC(1999, 0, 1),
      Date.UTC(2026, 11, 5),
      Date.UTC(2026, 11, 5) + 1,
    ];
    for (let i = 0; i < 2_000; i++) times.push(Math.floor(Math.random() * last));
    const ids = times.map((at) => ({ at, id: timeOrderedId(at) }));
    const byId = [...ids].sort((a, b) => byteOrder(a.id, b.id)).map((x) => x.at);
    expect(byId).toEqual([...times].sort((a, b) => a - b));
  });

  it("orders the IDs of one millisecond as they were made when sequenced (audit events, outgoing mail)", () => {
    const at = Date.UTC(2026, 11, 5);
    const ids = Array.from({ length: 5_000 }, () => sequencedTimeId(at, 6));
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{13}[A-Za-z0-9_-]{8}$/);
    // The sequence wraps after 36^4 IDs; 5,000 in a row stay in order unless they straddle the wrap.
    const wraps = ids.filter((id, i) => i > 0 && byteOrder(ids[i - 1] ?? "", id) > 0).length;
    expect(wraps).toBeLessThanOrEqual(1);
    expect(byteOrder(sequencedTimeId(at, 12), sequencedTimeId(at + 1, 12))).toBeLessThan(0);
  });

  it("takes a fractional millisecond as the one it falls in, and refuses what is not a time", () => {
    expect(timeOrderedId(1_000.9).slice(0, 9)).toBe(timeOrderedId(1_000).slice(0, 9));
    for (const at of [-1, Number.NaN, Number.POSITIVE_INFINITY, 36 ** 9]) {
      expect(() => timeOrderedId(at)).toThrow(RangeError);
      expect(() => sequencedTimeId(at, 6)).toThrow(RangeError);
    }
  });
});
