import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { randomId, sequencedTimeId } from "../../crypto/random.js";
import type { DialectName } from "../../db/connect.js";
import type { Database } from "../../db/database.js";
import { retryingConflicts } from "../../db/outage.js";
import type { Mailer, MailTransport, OutgoingMail } from "./mailer.js";
import * as outbox from "./outbox.repository.js";

export interface MailerOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  keyring: Keyring;
  transport: MailTransport;
  /** Scheduling time of the outbox: real time in the server (the app's clock may be fixed in tests). */
  clock: Clock;
  log: FastifyBaseLogger;
  /** Keep sent messages readable for GET /dev/mail (the last 50). Never in production. @default false */
  keepOutbox?: boolean;
  /** Wait before the first retry; each later one waits twice as long, up to `maxRetryDelayInMs`. @default 2000 */
  firstRetryDelayInMs?: number;
  /** @default 15 minutes */
  maxRetryDelayInMs?: number;
  /** A message still undelivered this long after it was written is given up on. @default 24 hours */
  giveUpAfterInMs?: number;
  /** How often each instance looks for due mail (mail sent by this process is looked for at once). @default 1000 */
  pollIntervalInMs?: number;
  /** Messages one worker pass takes and sends at once. @default 4 */
  batchSize?: number;
  /** How long close() waits for the send in flight. @default 10000 */
  closeTimeoutInMs?: number;
}

const outboxSize = 50;
/** A claimed row is another worker's again after this: longer than any send may take (transports time out at 50 s). */
const claimLeaseInMs = 2 * 60 * 1000;
const keepSentForMs = 7 * 24 * 60 * 60 * 1000;
const sweepEveryMs = 10 * 60 * 1000;

/** What of a transport error is safe to log: codes and the server's words, never credentials or the message. */
function describe(error: unknown): { code?: unknown; responseCode?: unknown; reason: string } {
  if (!(error instanceof Error)) return { reason: String(error).slice(0, 200) };
  // nodemailer adds `code` (ECONNECTION, EAUTH…) and the SMTP `responseCode` to its errors.
  const code = "code" in error ? error.code : undefined;
  const responseCode = "responseCode" in error ? error.responseCode : undefined;
  return { code, responseCode, reason: error.message.slice(0, 200) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createMailer(options: MailerOptions): Mailer {
  const { db, dialect, keyring, transport, clock, log } = options;
  const firstRetryDelayInMs = options.firstRetryDelayInMs ?? 2000;
  const maxRetryDelayInMs = options.maxRetryDelayInMs ?? 15 * 60 * 1000;
  const giveUpAfterInMs = options.giveUpAfterInMs ?? 24 * 60 * 60 * 1000;
  const pollIntervalInMs = options.pollIntervalInMs ?? 1000;
  const batchSize = options.batchSize ?? 4;
  const keepOutbox = options.keepOutbox === true;
  const workerId = randomId();
  const aad = (id: string): string => aadFor("mail_outbox", "body_ciphertext", id);
  const counts = { sent: 0, failed: 0, attemptsFailed: 0, workerErrors: 0 };
  let tasks = 0;
  let closed = false;
  let pass: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let lastSweep = 0;

  const retryDelay = (attempts: number): number =>
    Math.min(maxRetryDelayInMs, firstRetryDelayInMs * 2 ** Math.max(0, attempts - 1));

  async function deliver(row: outbox.ClaimedRow): Promise<void> {
    const now = (): number => clock.now();
    let mail: OutgoingMail;
    try {
      mail = JSON.parse(keyring.decrypt(row.body_ciphertext, aad(row.id)).toString("utf8")) as OutgoingMail;
    } catch {
      // A key removed from TESSERA_SECRET_KEY while mail under it waited: nothing can send it.
      counts.failed += 1;
      await outbox.markFailed(db, row.id, workerId, now(), "cannot decrypt (was its key removed?)");
      log.error({ mailId: row.id }, "mail cannot be decrypted; giving up");
      return;
    }
    try {
      await transport.deliver(mail);
    } catch (error) {
      counts.attemptsFailed += 1;
      const reason = describe(error);
      const lastError = `${String(reason.code ?? "")} ${String(reason.responseCode ?? "")} ${reason.reason}`.trim();
      const at = now();
      if (at - row.created_at >= giveUpAfterInMs) {
        counts.failed += 1;
        await outbox.markFailed(db, row.id, workerId, at, lastError);
        log.error(
          { mailId: row.id, attempts: row.attempts, ...reason },
          "mail delivery failed for 24 hours; giving up",
        );
        return;
      }
      const retryInMs = retryDelay(row.attempts);
      await outbox.scheduleRetry(db, row.id, workerId, at + retryInMs, lastError);
      log.warn({ mailId: row.id, attempts: row.attempts, retryInMs, ...reason }, "mail delivery failed; will retry");
      return;
    }
    counts.sent += 1;
    await outbox.markSent(db, row.id, workerId, now(), keepOutbox);
    log.info({ mailId: row.id, attempts: row.attempts }, "mail accepted by the transport");
  }

  /** One pass: claims due rows and sends them, until none is due. */
  async function work(): Promise<void> {
    while (!closed) {
      const now = clock.now();
      if (now - lastSweep > sweepEveryMs) {
        lastSweep = now;
        await outbox.deleteOld(db, now - keepSentForMs);
      }
      const rows = await outbox.claimDue(db, dialect, { workerId, now, leaseUntil: now + claimLeaseInMs, batchSize });
      if (rows.length === 0 && !again) return;
      again = false;
      await Promise.all(rows.map((row) => deliver(row)));
    }
  }

  /** Starts a pass unless one runs (which then goes round once more); errors are logged, never thrown. */
  function pump(): Promise<void> {
    if (closed) return Promise.resolve();
    if (pass !== null) {
      again = true;
      return pass;
    }
    pass = work()
      .catch((error: unknown) => {
        counts.workerErrors += 1;
        log.error({ err: describe(error) }, "mail outbox worker pass failed");
      })
      .finally(() => {
        pass = null;
        schedule(pollIntervalInMs);
      });
    return pass;
  }

  function schedule(inMs: number): void {
    if (closed) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void pump();
    }, inMs);
    timer.unref();
  }

  schedule(0);

  function encode(mail: OutgoingMail): { id: string; body: string; now: number } {
    const now = clock.now();
    // Time-ordered, so the dev outbox lists messages in the order they were written.
    const id = sequencedTimeId(now, 12);
    return { id, body: keyring.encrypt(Buffer.from(JSON.stringify(mail), "utf8"), aad(id)), now };
  }

  const service: Mailer = {
    async send(mail, executor = db) {
      const { id, body, now } = encode(mail);
      const row = { id, body_ciphertext: body, created_at: now, next_attempt_at: now };
      const alone = executor === db;
      // On its own, the INSERT runs again if MySQL picks it as a deadlock victim: another instance's claim
      // (FOR UPDATE SKIP LOCKED) takes index gaps. Inside the caller's transaction, the caller's retry does.
      if (alone) await retryingConflicts(() => outbox.insert(db, row));
      else await outbox.insert(executor, row);
      // Committed by now unless inside the caller's transaction; then the next poll finds it.
      schedule(alone ? 0 : 20);
    },
    rehearse(mail) {
      encode(mail);
    },
    defer(task) {
      tasks += 1;
      // Started on the next turn of the event loop, once the reply that deferred it has been written:
      // work begun in the same turn would run before the reply goes out and show in its time.
      void new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .catch((error: unknown) => log.error(describe(error), "background mail task failed"))
        .finally(() => {
          tasks -= 1;
        });
    },
    async idle() {
      for (;;) {
        while (tasks > 0) await sleep(5);
        await pump();
        const next = await outbox.nextDue(db);
        if (next === undefined && tasks === 0) return;
        await sleep(next === undefined ? 5 : Math.min(Math.max(next - clock.now(), 5), 200));
      }
    },
    async outbox() {
      if (!keepOutbox) return null;
      const rows = await outbox.lastSent(db, outboxSize);
      return rows.map((row) => ({
        id: row.id,
        ...(JSON.parse(keyring.decrypt(row.body_ciphertext, aad(row.id)).toString("utf8")) as OutgoingMail),
        sent_at: new Date(row.sent_at).toISOString(),
      }));
    },
    async stats() {
      // The outbox unreadable (the database down): NaN for what lives there, /metrics still answers.
      const waiting = await outbox.waiting(db).catch(() => ({ count: Number.NaN, oldest: Number.NaN }));
      const oldest = waiting.oldest === null ? 0 : Math.max(0, (clock.now() - waiting.oldest) / 1000);
      return { queued: waiting.count, ...counts, oldestAgeSeconds: oldest };
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const current = pass;
      if (current !== null) {
        let timeout: NodeJS.Timeout | undefined;
        await Promise.race([
          current,
          new Promise<void>((resolve) => (timeout = setTimeout(resolve, options.closeTimeoutInMs ?? 10_000))),
        ]);
        clearTimeout(timeout);
      }
      transport.close();
    },
  };
  return service;
}
