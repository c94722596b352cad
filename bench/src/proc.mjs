// Child-process helpers: free ports, spawning servers, waiting for health, reading RSS.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Asks the kernel for a free loopback TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status), or null if gone. */
export function readRss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Threads of a process (from /proc/<pid>/status), or null if gone. */
export function readThreads(pid) {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `intervalMs` until stop(); returns the max seen. */
export function sampleRss(pid, intervalMs = 100) {
  let max = readRss(pid) ?? 0;
  const timer = setInterval(() => {
    const rss = readRss(pid);
    if (rss !== null && rss > max) max = rss;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = readRss(pid);
      if (rss !== null && rss > max) max = rss;
      return max;
    },
  };
}

// Every child still running; killed (SIGKILL) if the bench itself exits without stopping them.
const live = new Set();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the servers\n`);
    process.exit(130);
  });
}

/**
 * Spawns `node <args>` with `env`, keeps the last lines of its output for error reports,
 * and resolves once GET `healthUrl` answers 2xx (bounded by `timeoutMs`).
 */
export async function startChild({ name, args, env, healthUrl, timeoutMs = 60_000, cwd }) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = [];
  const keep = (chunk) => {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  live.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      live.delete(child);
      exited = { code, signal };
      resolve(exited);
    });
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`${name} exited before becoming healthy (${JSON.stringify(exited)}):\n${tail.join("\n")}`);
    }
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not answer ${healthUrl} within ${timeoutMs} ms:\n${tail.join("\n")}`);
    }
    await sleep(100);
  }

  return {
    name,
    pid: child.pid,
    process: child,
    output: () => tail.join("\n"),
    /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
    async stop(graceMs = 10_000) {
      if (exited) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exitPromise;
      clearTimeout(timer);
      return result;
    },
  };
}
