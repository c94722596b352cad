import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverCli, serverMain, webDist } from "./paths";

export interface TesseraServer {
  baseURL: string;
  dataDir: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  /** Runs the `tessera` CLI against this server's database. */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<{ code: number | null; output: string }>;
  stop(): Promise<void>;
}

/** A free loopback port: listen on 0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function serverEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, "tessera.db")}`,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    NODE_ENV: "test",
    RATE_LIMIT: "off",
    PASSWORD_HASH_MEMORY_KIB: "19456",
    WEB_DIST: webDist,
  };
}

async function waitForHealth(baseURL: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`Tessera server exited with code ${child.exitCode} before it was healthy:\n${output()}`);
    try {
      const response = await fetch(`${baseURL}/healthz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`Tessera server did not answer GET /healthz with 200 within 30 s:\n${output()}`);
}

/**
 * Starts `node server/dist/main.js` on a free port with a fresh data directory; `extraEnv` adds to its settings
 * (a function of the port when a setting names it, e.g. PUBLIC_URL). `publicHost`: the host name the browser
 * uses and PUBLIC_URL names (WebAuthn needs a domain, e.g. localhost).
 */
export async function startServer(
  extraEnv: Record<string, string> | ((port: number) => Record<string, string>) = {},
  publicHost = "127.0.0.1",
): Promise<TesseraServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-e2e-"));
  const baseURL = `http://${publicHost}:${port}`;
  const env = {
    ...serverEnv(port, dataDir),
    PUBLIC_URL: baseURL,
    ...(typeof extraEnv === "function" ? extraEnv(port) : extraEnv),
  };
  const child = spawn(process.execPath, [serverMain], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  try {
    await waitForHealth(`http://127.0.0.1:${port}`, child, () => log);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    baseURL,
    dataDir,
    output: () => log,
    cli: (args, extraEnv = {}) =>
      new Promise((resolve) => {
        const run = spawn(process.execPath, [serverCli, ...args], {
          env: { ...env, ...extraEnv },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        run.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
        });
        run.stderr.on("data", (chunk: Buffer) => {
          output += chunk.toString();
        });
        run.on("close", (code) => resolve({ code, output }));
      }),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
