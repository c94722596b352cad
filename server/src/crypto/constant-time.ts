import { createHash, timingSafeEqual } from "node:crypto";

/** Compares two secrets without leaking where they differ; lengths are hidden by hashing first. */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const digestA = createHash("sha256").update(a).digest();
  const digestB = createHash("sha256").update(b).digest();
  return timingSafeEqual(digestA, digestB);
}
