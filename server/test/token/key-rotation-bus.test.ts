/*
 * Key rotation reaches the other instances (SPEC "Staying up", issue 18): a signing key added or
 * removed on one instance, or by `tessera keys rotate`, is what another instance of the same
 * database publishes and signs with within `remoteChangeBoundMs` (1 s), without a token naming the
 * new key having reached it first, and it logs the change. Every dialect: PostgreSQL by
 * LISTEN/NOTIFY, MySQL and SQLite files by the polled `change_version` table (db/bus/).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteChangeBoundMs } from "../../src/db/bus/change-bus.js";
import { login, register } from "../support/accounts.js";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, str, type Json } from "../support/http.js";
import { ensureServerBuilt, serverDir } from "../support/paths.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const dialect of testDialects()) {
  describe(`signing keys on two instances of one ${dialect.name} database`, () => {
    let a: TestApp & { dropDatabase(): Promise<void> };
    let b: TestApp;
    const logLines: string[] = [];
    beforeAll(async () => {
      a = await appOn(dialect, { groupCommit: false });
      b = await buildTestApp({
        databaseUrl: a.databaseUrl,
        secretKey: a.secretKey,
        clock: a.clock,
        groupCommit: false,
        logger: { level: "info", stream: { write: (line) => void logLines.push(line) } },
      });
      await register(a.app, "keyholder");
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    const kidsOf = async (t: TestApp): Promise<unknown[]> =>
      ((await call(t.app, "GET", "/.well-known/jwks.json")).body["keys"] as Json[]).map((k) => k["kid"]);

    it("publishes and signs with a key rotated on the other instance within a second, and logs it", async () => {
      const before = await kidsOf(b); // b has its keys in memory
      const newKid = await a.app.services.tokens.rotate();
      expect(before).not.toContain(newKid);
      await sleep(remoteChangeBoundMs);
      expect((await kidsOf(b))[0]).toBe(newKid);
      const fromB = await login(b.app, "keyholder");
      expect(decodeProtectedHeader(str(fromB.body["access_token"])).kid).toBe(newKid);
      expect(logLines.some((line) => line.includes("signing keys changed") && line.includes(newKid))).toBe(true);
    });

    it("stops publishing a key removed on the other instance within a second", async () => {
      const oldest = (await kidsOf(b)).at(-1);
      // Past an access token's lifetime the superseded keys go at the next rotation.
      a.clock.advance(a.config.accessTokenTtlSeconds + 1);
      await a.app.services.tokens.rotate();
      a.clock.advance(a.config.accessTokenTtlSeconds + 1);
      await a.app.services.tokens.rotate();
      expect(await kidsOf(a)).not.toContain(oldest);
      await sleep(remoteChangeBoundMs);
      expect(await kidsOf(b)).toEqual(await kidsOf(a));
    });

    // The CLI is a third process; on SQLite it is the several-processes case the poll is for.
    it("publishes a key rotated by `tessera keys rotate` within a second", { timeout: 60_000 }, async () => {
      ensureServerBuilt();
      await kidsOf(b);
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [join(serverDir, "bin", "tessera.mjs"), "keys", "rotate"],
          {
            env: {
              PATH: process.env["PATH"] ?? "",
              DATA_DIR: a.config.dataDir,
              DATABASE_URL: a.databaseUrl,
              TESSERA_SECRET_KEY: a.secretKey,
            },
            encoding: "utf8",
            timeout: 30_000,
          },
          (error, out, stderr) => (error === null ? resolve(out) : reject(new Error(stderr))),
        );
      });
      const newKid = /new signing key (\S+)/.exec(stdout)?.[1];
      expect(newKid).toBeDefined();
      await sleep(remoteChangeBoundMs);
      expect((await kidsOf(b))[0]).toBe(newKid);
      expect((await kidsOf(a))[0]).toBe(newKid);
    });
  });
}
