import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startupLine } from "../../src/startup.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

/** The compiled server as `npm start` runs it, its output collected, stopped with SIGTERM. */
interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first output line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

function startServer(workDir: string, env: Record<string, string>, options: { tty?: boolean } = {}): Started {
  const main = join(serverDir, "dist", "main.js");
  const fullEnv = { PATH: process.env["PATH"] ?? "", HOME: workDir, PORT: "0", HOST: "127.0.0.1", ...env };
  // `script` gives the server a terminal of its own (stdout.isTTY), as a person's shell would.
  const child = options.tty
    ? spawn("script", ["-qfec", `${process.execPath} ${main}`, "/dev/null"], {
        cwd: workDir,
        env: fullEnv,
        detached: true,
      })
    : spawn(process.execPath, [main], { cwd: workDir, env: fullEnv, detached: true });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output.split(/\r?\n/).find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no line ${pattern} in:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}

const listening = /Tessera listening on (http:\/\/localhost:(\d+)) — API docs \/docs/;

describe("the server at start", () => {
  let workDir: string;
  let webDist: string;
  beforeAll(() => {
    ensureServerBuilt();
    workDir = mkdtempSync(join(tmpdir(), "tessera-start-"));
    webDist = join(workDir, "web");
    mkdirSync(webDist);
    writeFileSync(join(webDist, "index.html"), "<!doctype html><title>Tessera</title>");
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("prints where it serves and the outbox in one line, and logs JSON when its output is piped", async () => {
    const dataDir = join(workDir, "piped-data");
    const server = startServer(workDir, { DATA_DIR: dataDir, WEB_DIST: webDist });
    try {
      const line = await server.waitFor(listening);
      const record = JSON.parse(line) as { msg: string; level: number };
      const [, url, port] = listening.exec(record.msg) ?? [];
      expect(record.msg).toBe(`Tessera listening on ${url} — API docs /docs — dev outbox /dev-mailbox`);
      expect(record.level).toBe(30);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/dev/mail`)).status).toBe(200);
      // Every line the server wrote is a JSON log record.
      for (const out of server.output().trim().split("\n")) expect(() => JSON.parse(out), out).not.toThrow();
      // The files it made hold secrets: the owner's only (SPEC §3).
      expect((statSync(dataDir).mode & 0o777).toString(8)).toBe("700");
      for (const file of ["tessera.db", "tessera.db-wal", "tessera.db-shm", "secret.key"])
        expect((statSync(join(dataDir, file)).mode & 0o777).toString(8), file).toBe("600");
    } finally {
      await server.stop();
    }
  });

  it("started with SMTP_URL and nothing else, names no outbox and answers /dev/mail 404 even to loopback", async () => {
    const server = startServer(workDir, {
      DATA_DIR: join(workDir, "smtp-data"),
      WEB_DIST: webDist,
      SMTP_URL: "smtp://127.0.0.1:1",
    });
    try {
      const record = JSON.parse(await server.waitFor(listening)) as { msg: string };
      expect(record.msg).toMatch(/^Tessera listening on http:\/\/localhost:\d+ — API docs \/docs$/);
      const port = listening.exec(record.msg)?.[2];
      const outbox = await fetch(`http://127.0.0.1:${port}/dev/mail`);
      expect(outbox.status).toBe(404);
      expect(((await outbox.json()) as { error: { code: string } }).error.code).toBe("not_found");
    } finally {
      await server.stop();
    }
  });

  it("writes readable lines, not JSON, in a terminal outside production", async () => {
    const server = startServer(workDir, { DATA_DIR: join(workDir, "tty-data"), WEB_DIST: webDist }, { tty: true });
    try {
      const line = await server.waitFor(listening);
      expect(line.trimStart().startsWith("{")).toBe(false);
      expect(line).toMatch(/INFO/);
      expect(line).toMatch(/Tessera listening on http:\/\/localhost:\d+ — API docs \/docs — dev outbox \/dev-mailbox/);
    } finally {
      await server.stop();
    }
  });
});

describe("startupLine", () => {
  const config = { host: "127.0.0.1", port: 8000, publicUrl: "http://localhost:8000", devOutbox: true };

  it("names the bound port, the docs and the outbox page", () => {
    expect(startupLine(config, { address: "127.0.0.1", family: "IPv4", port: 8000 }, true)).toBe(
      "Tessera listening on http://localhost:8000 — API docs /docs — dev outbox /dev-mailbox",
    );
    expect(
      startupLine(
        { ...config, port: 0, publicUrl: "http://localhost:0" },
        { address: "::1", family: "IPv6", port: 41234 },
        false,
      ),
    ).toBe("Tessera listening on http://localhost:41234 — API docs /docs — dev outbox /dev/mail");
  });

  it("leaves the outbox out when it is off, and names a PUBLIC_URL that was set", () => {
    expect(
      startupLine(
        { ...config, host: "0.0.0.0", publicUrl: "https://auth.example.com", devOutbox: false },
        { address: "0.0.0.0", family: "IPv4", port: 8000 },
        true,
      ),
    ).toBe("Tessera listening on http://localhost:8000 (PUBLIC_URL https://auth.example.com) — API docs /docs");
    expect(startupLine({ ...config, host: "10.1.2.3", devOutbox: false }, null, true)).toBe(
      "Tessera listening on http://10.1.2.3:8000 — API docs /docs",
    );
  });
});
