import { randomBytes } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { createKeyring, parseSecretKeys } from "../../src/crypto/encryption.js";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import type { Mailer, MailTransport, OutgoingMail } from "../../src/modules/notify/mailer.js";
import { createMailer, type MailerOptions } from "../../src/modules/notify/outbox-mailer.js";
import { testDialects } from "../support/dialects.js";

/** A logger whose every line lands in `lines`, to check what reaches the log. */
function capturingLog(): { log: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
  return { log, lines };
}

const mail = (n: number): OutgoingMail => ({
  to: `user${n}@example.org`,
  subject: `Message ${n}`,
  text: `secret text ${n} token=abc${n}`,
  html: `<p>${n}</p>`,
});

/** A transport failing its first `failures` deliveries (each taking `delayInMs`), recording when each try ran. */
function flakyTransport(
  failures: number,
  delayInMs = 0,
): MailTransport & { tries: number[]; delivered: OutgoingMail[]; failures: number } {
  const tries: number[] = [];
  const delivered: OutgoingMail[] = [];
  const transport = {
    tries,
    delivered,
    failures,
    async deliver(message: OutgoingMail) {
      tries.push(Date.now());
      if (delayInMs > 0) await new Promise((resolve) => setTimeout(resolve, delayInMs));
      if (tries.length <= transport.failures)
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNECTION" });
      delivered.push(message);
    },
    close: () => undefined,
  };
  return transport;
}

for (const dialect of testDialects()) {
  describe(`the mail outbox [${dialect.name}]`, () => {
    let database: { url: string; drop(): Promise<void> };
    let db: Kysely<Database>;
    const keyring = createKeyring(parseSecretKeys(randomBytes(32).toString("base64")));
    const mailers: Mailer[] = [];
    beforeAll(async () => {
      database = await dialect.createDatabase();
      db = createDb(database.url, { groupCommit: false });
      await migrateToLatest(db);
    });
    afterEach(async () => {
      for (const mailer of mailers.splice(0)) await mailer.close();
      await db.deleteFrom("mail_outbox").execute();
    });
    afterAll(async () => {
      await db.destroy();
      await database.drop();
    });

    const outboxOn = (
      options: Partial<MailerOptions> & { transport: MailTransport },
      on: Kysely<Database> = db,
    ): Mailer => {
      const mailer = createMailer({
        db: on,
        dialect: dialect.name,
        keyring,
        clock: systemClock,
        log: capturingLog().log,
        pollIntervalInMs: 20,
        ...options,
      });
      mailers.push(mailer);
      return mailer;
    };

    it("stores the message encrypted, retries a failing transport with growing delays, delivers it once", async () => {
      const transport = flakyTransport(3);
      const { log, lines } = capturingLog();
      const mailer = outboxOn({ transport, log, firstRetryDelayInMs: 20 });
      await mailer.send(mail(1));
      const stored = JSON.stringify(await db.selectFrom("mail_outbox").selectAll().execute());
      expect(stored).not.toContain("secret text");
      expect(stored).not.toContain("token=");
      expect(stored).not.toContain("user1@example.org");
      await mailer.idle();
      expect(transport.delivered).toEqual([mail(1)]);
      expect(transport.tries).toHaveLength(4);
      const gaps = transport.tries.slice(1).map((at, i) => at - (transport.tries[i] ?? 0));
      expect(gaps[0]).toBeGreaterThanOrEqual(18); // 20, 40, 80 ms
      expect(gaps[1]).toBeGreaterThanOrEqual(38);
      expect(gaps[2]).toBeGreaterThanOrEqual(78);
      const retries = lines.filter((line) => line.includes("will retry"));
      expect(retries).toHaveLength(3);
      expect(retries.join("")).toContain("ECONNECTION");
      // The log never carries the message itself (links live there).
      expect(lines.join("")).not.toContain("secret text");
      expect(lines.join("")).not.toContain("token=");
      const row = await db.selectFrom("mail_outbox").selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ attempts: 4, body_ciphertext: null, failed_at: null, claimed_by: null });
      expect(row.sent_at).not.toBeNull();
      expect(await mailer.stats()).toMatchObject({ queued: 0, sent: 1, failed: 0, attemptsFailed: 3 });
    });

    it("gives up once retries have run for the give-up time, logs and counts it, and stays usable", async () => {
      const transport = flakyTransport(1000);
      const { log, lines } = capturingLog();
      const mailer = outboxOn({ transport, log, firstRetryDelayInMs: 10, giveUpAfterInMs: 100 });
      await mailer.send(mail(1));
      await mailer.idle();
      expect(transport.delivered).toEqual([]);
      expect(lines.some((line) => line.includes("giving up"))).toBe(true);
      const row = await db.selectFrom("mail_outbox").selectAll().executeTakeFirstOrThrow();
      expect(row.failed_at).not.toBeNull();
      expect(row.body_ciphertext).toBeNull();
      expect((await mailer.stats()).failed).toBe(1);
      transport.failures = 0;
      await mailer.send(mail(2));
      await mailer.idle();
      expect(transport.delivered).toEqual([mail(2)]);
    });

    it("a rolled-back change sends no mail; a committed one does", async () => {
      const transport = flakyTransport(0);
      const mailer = outboxOn({ transport });
      await expect(
        db.transaction().execute(async (trx) => {
          await mailer.send(mail(1), trx);
          throw new Error("the change failed");
        }),
      ).rejects.toThrow("the change failed");
      await db.transaction().execute(async (trx) => mailer.send(mail(2), trx));
      await mailer.idle();
      expect(transport.delivered).toEqual([mail(2)]);
    });

    it("a message whose INSERT loses a deadlock is written again, once, and delivered once", async () => {
      // What MySQL does to an INSERT that waits on another instance's claim (FOR UPDATE SKIP LOCKED takes gaps).
      let victims = 2;
      const losing = db.withPlugin({
        transformQuery({ node }) {
          if (node.kind === "InsertQueryNode" && node.into?.table.identifier.name === "mail_outbox" && victims > 0) {
            victims -= 1;
            throw Object.assign(new Error("Deadlock found when trying to get lock"), {
              code: "ER_LOCK_DEADLOCK",
              errno: 1213,
            });
          }
          return node;
        },
        transformResult: async ({ result }) => result,
      });
      const transport = flakyTransport(0);
      const mailer = outboxOn({ transport }, losing);
      await mailer.send(mail(1));
      await mailer.idle();
      expect(victims).toBe(0);
      expect(transport.delivered).toEqual([mail(1)]);
      expect(await db.selectFrom("mail_outbox").select("id").execute()).toHaveLength(1);
    });

    it("two instances on one outbox send each message once", async () => {
      const second = createDb(database.url, { groupCommit: false });
      try {
        const a = flakyTransport(0, 5);
        const b = flakyTransport(0, 5);
        const first = outboxOn({ transport: a });
        const other = outboxOn({ transport: b }, second);
        for (let n = 1; n <= 30; n += 1) await (n % 2 === 0 ? first : other).send(mail(n));
        await Promise.all([first.idle(), other.idle()]);
        const subjects = [...a.delivered, ...b.delivered].map((m) => m.subject).sort();
        expect(subjects).toEqual(Array.from({ length: 30 }, (_, i) => `Message ${i + 1}`).sort());
        expect(a.delivered.length).toBeGreaterThan(0);
        expect(b.delivered.length).toBeGreaterThan(0);
        await other.close();
      } finally {
        await second.destroy();
      }
    });

    it("runs deferred work off the caller's path, logs its failure, and idle() waits for it", async () => {
      const transport = flakyTransport(0);
      const { log, lines } = capturingLog();
      const mailer = outboxOn({ transport, log });
      mailer.defer(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await mailer.send(mail(1));
      });
      mailer.defer(async () => {
        throw new Error("database went away");
      });
      expect(transport.delivered).toEqual([]);
      await mailer.idle();
      expect(transport.delivered).toEqual([mail(1)]);
      expect(lines.some((line) => line.includes("database went away"))).toBe(true);
    });

    it("keeps the last 50 delivered messages readable, newest first, only when asked to", async () => {
      const kept = outboxOn({ transport: flakyTransport(0), keepOutbox: true });
      for (let n = 1; n <= 55; n += 1) await kept.send(mail(n));
      await kept.idle();
      const outbox = (await kept.outbox()) ?? [];
      expect(outbox).toHaveLength(50);
      expect(outbox[0]).toMatchObject(mail(55));
      expect(outbox.at(-1)?.subject).toBe("Message 6");
      await kept.close();
      await db.deleteFrom("mail_outbox").execute();
      const unkept = outboxOn({ transport: flakyTransport(0) });
      await unkept.send(mail(1));
      await unkept.idle();
      expect(await unkept.outbox()).toBeNull();
      const bodies = await db.selectFrom("mail_outbox").select("body_ciphertext").execute();
      expect(bodies).toEqual([{ body_ciphertext: null }]);
    });

    it("close lets the send in flight finish and leaves unsent mail queued for the next start", async () => {
      const slow = flakyTransport(0, 200);
      const mailer = outboxOn({ transport: slow, batchSize: 1 });
      await mailer.send(mail(1));
      await mailer.send(mail(2));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await mailer.close();
      expect(slow.delivered).toEqual([mail(1)]);
      const next = flakyTransport(0);
      const restarted = outboxOn({ transport: next });
      await restarted.idle();
      expect(next.delivered).toEqual([mail(2)]);
    });
  });
}
