import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSecretKey } from "../support/app.js";
import { ensureServerBuilt } from "../support/paths.js";
import { startServerProcess } from "../support/server-process.js";

describe("the server stopping on a signal", () => {
  let dir: string;
  beforeAll(() => {
    ensureServerBuilt();
    dir = mkdtempSync(join(tmpdir(), "tessera-signal-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const envFor = (name: string): Record<string, string> => ({
    DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
    DATA_DIR: join(dir, name),
    TESSERA_SECRET_KEY: newSecretKey(),
    RATE_LIMIT: "off",
  });

  it("SIGTERM with requests in flight: every one is answered, then it exits 0", async () => {
    const server = await startServerProcess(envFor("graceful"));
    const { port } = new URL(server.baseUrl);
    // Requests whose headers have arrived and whose bodies are still coming when the signal comes.
    const inFlight = Array.from({ length: 6 }, (_, i) => {
      const body = JSON.stringify({ username: `inflight${i}`, password: "a long and unusual passphrase 7" });
      const request = httpRequest({
        host: "127.0.0.1",
        port: Number(port),
        method: "POST",
        path: "/api/auth/register",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      const status = new Promise<number>((resolve, reject) => {
        request.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        request.on("error", reject);
      });
      request.write(body.slice(0, 10));
      return { request, rest: body.slice(10), status };
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { request, rest } of inFlight) request.end(rest);
    expect(await Promise.all(inFlight.map((r) => r.status))).toEqual(Array.from({ length: 6 }, () => 201));
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain("shutting down");
    // Nothing new is accepted once it has stopped.
    await expect(fetch(`${server.baseUrl}/healthz`)).rejects.toThrow();
  });

  it("a second signal exits at once", async () => {
    const server = await startServerProcess(envFor("impatient"));
    // A request that keeps the server busy: its body never finishes arriving (10 s body timeout).
    const controller = new AbortController();
    void fetch(`${server.baseUrl}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "100" },
      body: new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"username":')) }),
      signal: controller.signal,
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    server.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.kill("SIGTERM");
    expect(await server.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    controller.abort();
  });
});
