import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureServerBuilt, repoDir, serverDir } from "../support/paths.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

// Idle memory (SPEC §5): `npm start` and `npm run bench` run the server with MALLOC_ARENA_MAX=1
// (scripts/node-flags.mjs), so that what its threads free lands where malloc_trim gives it back. glibc gives each
// thread that allocates under contention a heap of its own, a 64 MiB reservation aligned on 64 MiB; with one
// arena there is none. The check reads the server's own mappings after its threads have worked (password
// hashing threads, libuv's threads signing tokens), and a server started without the variable is the control.

type Command = { file: string; args: string[]; env: NodeJS.ProcessEnv };
type NodeFlags = { serverCommand(main: string, env?: NodeJS.ProcessEnv): Command };

const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
const glibc = process.platform === "linux" && report.header.glibcVersionRuntime !== undefined;
const heapSize = 64 * 1024 * 1024;

/** glibc's per-thread heaps in a process: each a 64 MiB-aligned reservation, read and write at its start. */
function threadHeaps(pid: number): number {
  const starts = new Set<bigint>();
  const ends = new Map<bigint, bigint>();
  for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) 00000000 00:00 0\s*$/.exec(line);
    if (match === null) continue;
    const [start, end] = [BigInt(`0x${match[1]}`), BigInt(`0x${match[2]}`)];
    if (match[3] === "rw-p" && start % BigInt(heapSize) === 0n) starts.add(start);
    ends.set(start, end);
  }
  // A heap's read-write part and its reserved rest are two mappings; together they span exactly 64 MiB.
  let count = 0;
  for (const start of starts) {
    let end = ends.get(start) ?? start;
    if (ends.has(end)) end = ends.get(end) ?? end;
    if (end - start === BigInt(heapSize)) count++;
  }
  return count;
}

/** The server started as `command` says (its file is this node, its last argument the server's main). */
function startServer(command: Command): Promise<ServerProcess> {
  return startServerProcess(command.env, { nodeArgs: command.args.slice(0, -1) });
}

/** Registrations and logins: argon2id on the hashing threads, Ed25519 signatures on libuv's. */
async function exerciseThreads(base: string): Promise<void> {
  const password = "arena-check-Pass-5e1f!";
  await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const body = JSON.stringify({ username: `arena${i}`, password });
      const headers = { "content-type": "application/json" };
      const registered = await fetch(`${base}/api/auth/register`, { method: "POST", headers, body });
      expect(registered.status).toBe(201);
      for (let n = 0; n < 3; n++) {
        const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers, body });
        expect(login.status).toBe(200);
      }
    }),
  );
}

describe.runIf(glibc)("the server's malloc arenas (idle memory)", () => {
  let workDir: string;
  let nodeFlags: NodeFlags;
  const started: ServerProcess[] = [];
  beforeAll(async () => {
    ensureServerBuilt();
    workDir = mkdtempSync(join(tmpdir(), "tessera-arenas-"));
    nodeFlags = (await import(pathToFileURL(join(repoDir, "scripts", "node-flags.mjs")).href)) as NodeFlags;
  });
  afterAll(() => {
    for (const server of started) server.kill("SIGKILL");
    rmSync(workDir, { recursive: true, force: true });
  });

  const env = (name: string): NodeJS.ProcessEnv => ({
    PATH: process.env["PATH"] ?? "",
    HOME: workDir,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: join(workDir, name),
    RATE_LIMIT: "off",
    LOG_LEVEL: "info",
    PASSWORD_HASH_MEMORY_KIB: "1024",
    PASSWORD_HASH_ITERATIONS: "1",
  });
  const main = join(serverDir, "dist", "main.js");

  it("npm start's command gives every thread the main arena: no thread heap after hashing and signing", async () => {
    const command = nodeFlags.serverCommand(main, env("one-arena"));
    expect(command.env["MALLOC_ARENA_MAX"]).toBe("1");
    expect(command.args).toEqual(["--max-semi-space-size=2", "--v8-pool-size=1", main]);
    const server = await startServer(command);
    started.push(server);
    await exerciseThreads(server.baseUrl);
    expect(threadHeaps(server.child.pid ?? 0)).toBe(0);
  });

  it("without it, the same work leaves thread heaps (the control: the check above can fail)", async () => {
    const command = nodeFlags.serverCommand(main, env("default-arenas"));
    const server = await startServer({ ...command, env: { ...command.env, MALLOC_ARENA_MAX: "0" } });
    started.push(server);
    await exerciseThreads(server.baseUrl);
    expect(threadHeaps(server.child.pid ?? 0)).toBeGreaterThan(0);
  });

  it("keeps a value the operator set", () => {
    expect(nodeFlags.serverCommand(main, { MALLOC_ARENA_MAX: "4" }).env["MALLOC_ARENA_MAX"]).toBe("4");
  });
});
