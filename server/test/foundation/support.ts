import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Kysely } from "kysely";
import { expect } from "vitest";
import type { Database } from "../../src/db/database.js";
import type { Json } from "../helpers/api.js";

export const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const repoDir = resolve(serverDir, "..");

export const tableNames = [
  "user",
  "session",
  "refresh_token",
  "signing_key",
  "totp_credential",
  "recovery_code",
  "login_challenge",
  "trusted_device",
  "audit_event",
  "link_token",
] as const satisfies readonly (keyof Database)[];

/** Every row of every table as one string: what someone holding a copy of the database sees. */
export async function dumpDatabase(db: Kysely<Database>): Promise<string> {
  const parts: string[] = [];
  for (const table of tableNames) {
    const rows = await db.selectFrom(table).selectAll().execute();
    parts.push(`${table}: ${JSON.stringify(rows)}`);
  }
  return parts.join("\n");
}

export interface Sent {
  status: number;
  body: Json;
  text: string;
  headers: LightMyRequestResponse["headers"];
}

/** app.inject with the knobs the shared `call` helper lacks: raw payloads, content types, client address. */
export async function send(
  app: FastifyInstance,
  options: {
    method: "GET" | "POST" | "DELETE" | "OPTIONS";
    url: string;
    token?: string;
    body?: unknown;
    payload?: string | Buffer;
    headers?: Record<string, string>;
    remoteAddress?: string;
  },
): Promise<Sent> {
  const headers: Record<string, string> = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  let payload: string | Buffer | undefined = options.payload;
  if (payload === undefined && options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await app.inject({
    method: options.method,
    url: options.url,
    headers,
    ...(payload === undefined ? {} : { payload }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  let body: Json = {};
  const type = String(response.headers["content-type"] ?? "");
  if (response.body !== "" && type.includes("json")) body = response.json<Json>();
  return { status: response.statusCode, body, text: response.body, headers: response.headers };
}

/** The spec's one error shape, `{ error: { code, message } }`, with the expected status and code. */
export function expectError(res: { status: number; body: Json }, status: number, code: string): void {
  const context = JSON.stringify(res.body);
  expect(res.status, context).toBe(status);
  const error = res.body["error"] as Json | undefined;
  expect(error, context).toBeTypeOf("object");
  expect(error?.["code"], context).toBe(code);
  expect(typeof error?.["message"], context).toBe("string");
}

/** A 4xx in the error shape: the contract for any input the server refuses. */
export function expectClientError(res: { status: number; body: Json; text?: string }, context = ""): void {
  const detail = `${context} -> ${res.status} ${res.text ?? JSON.stringify(res.body)}`;
  expect(res.status, detail).toBeGreaterThanOrEqual(400);
  expect(res.status, detail).toBeLessThan(500);
  const error = res.body["error"] as Json | undefined;
  expect(typeof error?.["code"], detail).toBe("string");
  expect(typeof error?.["message"], detail).toBe("string");
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds server/dist when it is missing or older than src, so the compiled entry points (main.js,
 * bin/tessera.mjs) are what gets tested. A directory lock keeps parallel test files from building at once.
 */
export function ensureServerBuilt(): void {
  const lock = join(serverDir, ".foundation-build.lock");
  const distMain = join(serverDir, "dist", "main.js");
  const distCli = join(serverDir, "dist", "cli", "index.js");
  const fresh = (): boolean =>
    existsSync(distMain) && existsSync(distCli) && statSync(distMain).mtimeMs >= newestMtime(join(serverDir, "src"));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (fresh()) return;
    try {
      mkdirSync(lock);
    } catch {
      // A lock left by a killed test run is stale after two minutes: a build takes seconds.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error("timed out waiting for another build of server/dist");
      execFileSync("sleep", ["0.5"]);
      continue;
    }
    try {
      if (!fresh()) {
        try {
          execFileSync("npm", ["run", "build", "-w", "server"], { cwd: repoDir, stdio: "pipe" });
        } catch (error) {
          // tsc still emits on type errors (someone else's work in progress); only a missing output is fatal.
          if (!fresh()) throw error;
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    return;
  }
}
