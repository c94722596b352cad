import { execFile, spawnSync } from "node:child_process";

/**
 * A Python 3 that has PyJWT with its cryptography backend (Debian's python3-jwt), for checking our
 * tokens with a client that shares no code with the server. Debian's /usr/bin/python3 first: a
 * `python3` earlier on PATH (pyenv, a virtualenv) does not see Debian's packages.
 */
export function pythonWithPyJWT(): string | null {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import jwt, cryptography"], { stdio: "ignore", timeout: 10_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/** Runs a Python script with arguments; never blocks the event loop (the app under test answers meanwhile). */
export function runPython(
  python: string,
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(python, ["-c", script, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
