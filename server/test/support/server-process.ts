import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { serverDir } from "./paths.js";

/** The compiled server (`node dist/main.js`) in a process of its own, for crash and signal tests. */
export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT once it listens. */
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

const listening = /Tessera listening on http:\/\/[^:]+:(\d+)/;

/**
 * Starts `dist/main.js` (build it first: ensureServerBuilt) with `env`, after `nodeArgs` (node's own flags), and
 * waits until it listens.
 */
export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  { timeoutMs = 30_000, nodeArgs = [] }: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, join(serverDir, "dist", "main.js")], {
    env: { PATH: process.env["PATH"] ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const port = listening.exec(output)?.[1];
    if (port !== undefined)
      return {
        child,
        baseUrl: `http://127.0.0.1:${port}`,
        output: () => output,
        exited,
        kill: (signal) => child.kill(signal),
      };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `check` every 50 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
