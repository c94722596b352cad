// Password hashing thread for the Piscina pool in src/modules/user/password.ts.
// Plain JavaScript so the same file serves the compiled server and the TypeScript tests.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { hashSync, verifySync } from "@node-rs/argon2";
import bcrypt from "bcryptjs";

// A hashing thread runs at nice 19, the lowest priority: a flood of logins cannot starve the event
// loop that answers every other request, and with nothing else to run it still gets every core.
// On Linux a thread's id is a valid target for setpriority(2); elsewhere the priority stays as it is.
try {
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(threadId)) setPriority(threadId, 19);
} catch {
  // Not Linux: keep the default priority.
}

/** @param {{ op: "hash" | "verify" | "bcrypt", password: string, hash?: string, options?: object }} job */
export default function run(job) {
  switch (job.op) {
    case "hash":
      return hashSync(job.password, job.options);
    case "verify":
      try {
        return verifySync(job.hash ?? "", job.password);
      } catch {
        return false;
      }
    case "bcrypt":
      return bcrypt.compareSync(job.password, job.hash ?? "");
    default:
      throw new TypeError(`unknown job ${String(job.op)}`);
  }
}
