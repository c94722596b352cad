import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import type { Options } from "@node-rs/argon2";
import { Piscina } from "piscina";
import type { PasswordHashConfig } from "../../config.js";
import { AppError } from "../../errors.js";
import { serverFile } from "../../paths.js";

export const passwordMinLength = 8;
export const passwordMaxLength = 256;

/**
 * zxcvbn-ts ships ~49,000 of the most common passwords (from breach corpora) as an array of strings.
 * Held as one lower-case string, `,a,b,…,`, instead: about 0.4 MB rather than 5 MB of small strings
 * and a hash table, and a lookup (only when a password is chosen) scans it in well under a millisecond.
 * The package's module is dropped from the require cache once read, so its array is collected.
 */
const commonPasswords: string = (() => {
  const require = createRequire(import.meta.url);
  const path = require.resolve("@zxcvbn-ts/language-common/dist/passwords.json.js");
  const list = require(path) as string[];
  delete require.cache[path];
  return `,${list.join(",").toLowerCase()},`;
})();

function isCommonPassword(lowerCase: string): boolean {
  // No entry holds a comma, so a candidate with one would only match across two entries.
  return !lowerCase.includes(",") && commonPasswords.includes(`,${lowerCase},`);
}

/** NIST SP 800-63B §5.1.1.2: normalise with NFKC before length checks and hashing. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/** Reasons a new password is refused, empty when it is acceptable. No composition rules (NIST). */
export function passwordProblems(
  password: string,
  context: { username?: string; email?: string | null } = {},
): string[] {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const problems: string[] = [];
  if (length < passwordMinLength) problems.push(`must be at least ${passwordMinLength} characters`);
  if (length > passwordMaxLength) problems.push(`must be at most ${passwordMaxLength} characters`);
  const lower = normalized.toLowerCase();
  if (isCommonPassword(lower)) problems.push("is one of the most common passwords; choose another");
  else if (context.username !== undefined && lower === context.username.toLowerCase()) {
    problems.push("must not be the same as the username");
  } else if (context.email && lower === context.email.toLowerCase()) {
    problems.push("must not be the same as the email address");
  }
  return problems;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `valid` says whether it matched; `needsRehash` when the stored hash is weaker than the current policy. */
  verify(storedHash: string, password: string): Promise<{ valid: boolean; needsRehash: boolean }>;
  /** Spends the same time as a real verification, for unknown users (no timing oracle). */
  verifyDummy(password: string): Promise<void>;
}

// One pool per process, shared by every app in it (tests build many): a thread per core, none while idle.
// A hashing thread holds a JavaScript heap of its own (about 10 MB of RSS): none starts before the first
// password is checked, and each ends after 20 s without one, so an idle server keeps none (SPEC §5, idle RSS).
let pool: Piscina | null = null;
function hashingPool(): Piscina {
  pool ??= new Piscina({
    filename: serverFile("workers/password-hash.mjs").href,
    maxThreads: availableParallelism(),
    minThreads: 0,
    // Each thread already holds its next job when it finishes one: no idle gap while the event
    // loop, busy with other requests, gets round to dispatching.
    concurrentTasksPerWorker: 2,
    idleTimeout: 20_000,
    // Piscina's own run- and wait-time histograms (about 0.7 MB of native memory for the process's life);
    // nothing reads them.
    recordTiming: false,
  });
  return pool;
}

type HashJob =
  { op: "hash"; password: string; options: Options } | { op: "verify" | "bcrypt"; password: string; hash: string };

async function runJob(job: HashJob & { op: "hash" }): Promise<string>;
async function runJob(job: HashJob): Promise<boolean>;
async function runJob(job: HashJob): Promise<string | boolean> {
  const result: unknown = await hashingPool().run(job);
  if (typeof result !== "string" && typeof result !== "boolean") throw new TypeError("unexpected hashing result");
  return result;
}

/**
 * Hash jobs one hasher lets wait at once, per hashing thread: about half a second of work at the
 * default cost. Past that a flood of logins is answered 429 at once, instead of queueing without
 * bound and answering everyone late.
 */
export const pendingHashJobsPerThread = 64;

export function createPasswordHasher(
  cost: PasswordHashConfig,
  { maxPending = pendingHashJobsPerThread * availableParallelism() }: { maxPending?: number } = {},
): PasswordHasher {
  const options: Options = {
    algorithm: 2, // Algorithm.Argon2id; a const enum, which verbatimModuleSyntax cannot import

    memoryCost: cost.memoryKiB,
    timeCost: cost.iterations,
    parallelism: cost.parallelism,
  };
  const currentParams = `m=${cost.memoryKiB},t=${cost.iterations},p=${cost.parallelism}`;
  // Hashing runs on a pool of low-priority threads, never on the event loop (SPEC §5).
  let dummyHash: Promise<string> | null = null;
  let pending = 0;
  async function limited<T>(work: () => Promise<T>): Promise<T> {
    if (pending >= maxPending)
      throw new AppError("rate_limited", "Too many passwords are being checked at once; try again in a moment.", 1);
    pending += 1;
    try {
      return await work();
    } finally {
      pending -= 1;
    }
  }
  return {
    hash: (password) => limited(() => runJob({ op: "hash", password: normalizePassword(password), options })),
    async verify(storedHash, password) {
      const normalized = normalizePassword(password);
      if (storedHash.startsWith("$argon2")) {
        const valid = await limited(() => runJob({ op: "verify", password: normalized, hash: storedHash }));
        const needsRehash = valid && (!storedHash.startsWith("$argon2id$") || !storedHash.includes(currentParams));
        return { valid, needsRehash };
      }
      if (/^\$2[aby]\$/.test(storedHash)) {
        // Imported bcrypt hashes still verify, and are replaced by argon2id on success.
        const valid = await limited(() => runJob({ op: "bcrypt", password: normalized, hash: storedHash }));
        return { valid, needsRehash: valid };
      }
      return { valid: false, needsRehash: false };
    },
    // Counted against the bound when called, like a real verification (no oracle there either).
    verifyDummy: (password) =>
      limited(async () => {
        dummyHash ??= runJob({ op: "hash", password: "tessera-dummy-password-for-unknown-users", options });
        await runJob({ op: "verify", password: normalizePassword(password), hash: await dummyHash });
      }),
  };
}
