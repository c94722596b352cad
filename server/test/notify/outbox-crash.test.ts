import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { newSecretKey } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { ensureServerBuilt } from "../support/paths.js";
import { eventually, startServerProcess } from "../support/server-process.js";
import { freePort, startSMTPSink, type SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`mail outbox across a crash [${dialect.name}]`, () => {
    let database: { url: string; drop(): Promise<void> };
    let db: Kysely<Database>;
    let dataDir: string;
    let sink: SMTPSink | undefined;
    beforeAll(async () => {
      ensureServerBuilt();
      database = await dialect.createDatabase();
      dataDir = mkdtempSync(join(tmpdir(), "tessera-crash-"));
    });
    afterAll(async () => {
      await sink?.close();
      await db.destroy();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("kill -9 between request and delivery: the mail arrives exactly once after the restart", async () => {
      const smtpPort = await freePort();
      const env = {
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        TESSERA_SECRET_KEY: newSecretKey(),
        PUBLIC_URL: "http://tessera.test",
        RATE_LIMIT: "off",
        // Nothing listens there yet: the SMTP server is down while the first instance runs.
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}?starttls=off`,
        MAIL_FROM: "tessera@tessera.test",
      };
      const first = await startServerProcess(env);
      const registered = await fetch(`${first.baseUrl}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          username: "crashy",
          password: "a long and unusual passphrase 7",
          email: "crashy@example.org",
        }),
      });
      expect(registered.status).toBe(201);
      db = createDb(database.url, { groupCommit: false });
      // The message is in the outbox and its first try has failed: it waits for a retry.
      await eventually(
        async () => {
          const row = await db.selectFrom("mail_outbox").selectAll().executeTakeFirst();
          return row !== undefined && row.attempts >= 1 && row.claimed_by === null ? row : undefined;
        },
        10_000,
        "a failed first try",
      );
      first.kill("SIGKILL");
      expect(await first.exited).toBe("SIGKILL");

      sink = await startSMTPSink({ port: smtpPort });
      const second = await startServerProcess(env);
      try {
        await eventually(
          async () => (sink?.to("crashy@example.org").length === 1 ? true : undefined),
          20_000,
          "the mail after the restart",
        );
        // Give a duplicate every chance to show up.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(sink.to("crashy@example.org").map((m) => m.subject)).toEqual(["Tessera: Confirm your email address"]);
        const rows = await db.selectFrom("mail_outbox").select(["sent_at", "body_ciphertext"]).execute();
        expect(rows).toHaveLength(1);
        expect(rows[0]?.sent_at).not.toBeNull();
        expect(rows[0]?.body_ciphertext).toBeNull();
      } finally {
        second.kill("SIGTERM");
        await second.exited;
      }
    });
  });
}
