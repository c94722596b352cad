import { afterAll, beforeAll } from "vitest";
import { register, strongPassword } from "./accounts.js";
import { appOn, type TestApp } from "./app.js";
import type { TestDialect } from "./dialects.js";
import type { Json } from "./http.js";

/** Hostile input for the attack suites: strings that break naive code, and a seeded JSON-ish fuzzer. */

export const hostileStrings: [string, string][] = [
  ["a NUL byte", "ali\u0000ce"],
  ["only NUL bytes", "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"],
  ["a lone high surrogate", "alice\ud800"],
  ["a lone low surrogate", "\udc00alice"],
  ["reversed surrogates", "\udc00\ud800\udc00\ud800\udc00\ud800\udc00\ud800"],
  ["an RTL override", "alice\u202egnp.exe"],
  ["zero-width joiners", "al\u200dice\u200b"],
  ["emoji", "🦄🔥💥😀"],
  ["a 10k-character string", "a".repeat(10_000)],
  ["10k emoji", "😀".repeat(10_000)],
  ["combining marks", "a\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301"],
  ["a fullwidth @", "alice＠example.com"],
  ["SQL", "' OR '1'='1' --"],
  ["a BOM", "\ufeffalice"],
  ["control characters", "\u0001\u0002\u0003\u001b[31m\r\n"],
];

/** Deterministic PRNG (mulberry32), so a failing fuzz case replays. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export function fuzzer(seed: number, knownFields: string[]): () => { payload: string; contentType: string } {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const atoms = [
    "",
    " ",
    "0",
    "-1",
    "null",
    "true",
    "123456",
    "000000",
    "alice",
    "alice@example.com",
    strongPassword,
    "AAAA-BBBB-CCCC-DDDD",
    "__proto__",
    "constructor",
    "%00",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    ...hostileStrings.map(([, s]) => s),
  ];
  const randomString = (): string => {
    switch (Math.floor(random() * 4)) {
      case 0:
        return pick(atoms);
      case 1:
        return Array.from({ length: Math.floor(random() * 40) }, () =>
          String.fromCharCode(Math.floor(random() * 0xffff)),
        ).join("");
      case 2:
        return pick(atoms).repeat(1 + Math.floor(random() * 300));
      default:
        return Array.from({ length: Math.floor(random() * 20) }, () =>
          String.fromCodePoint(Math.floor(random() * 0x10ffff) & ~0x800),
        ).join("");
    }
  };
  const value = (depth: number): unknown => {
    switch (Math.floor(random() * (depth > 2 ? 6 : 9))) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 123456]);
      case 3:
      case 4:
      case 5:
        return randomString();
      case 6:
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      default:
        return object(depth + 1);
    }
  };
  const object = (depth: number): Json => {
    const result: Json = {};
    const count = Math.floor(random() * 5);
    for (let i = 0; i < count; i++)
      result[random() < 0.7 && knownFields.length > 0 ? pick(knownFields) : randomString().slice(0, 20)] = value(depth);
    return result;
  };
  return () => {
    const roll = random();
    if (roll < 0.05) return { payload: randomString(), contentType: "application/json" };
    if (roll < 0.08) return { payload: JSON.stringify(value(0)), contentType: "application/json" };
    if (roll < 0.1) return { payload: JSON.stringify(object(0)).slice(0, -1), contentType: "application/json" };
    if (roll < 0.12)
      return {
        payload: JSON.stringify(object(0)),
        contentType: pick([
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/json; charset=utf-16",
          "application/json; charset=latin1",
        ]),
      };
    return { payload: JSON.stringify(object(0)), contentType: "application/json" };
  };
}

/** The attack suites' app: a fresh one per describe block, with "alice" registered; `bind` gets her token. */
export function useAppWithAlice(dialect: TestDialect, bind: (t: TestApp, aliceToken: string) => void): void {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await appOn(dialect);
    bind(t, (await register(t.app, "alice", { email: "alice@example.com" })).accessToken);
  });
  afterAll(async () => t?.close());
}
