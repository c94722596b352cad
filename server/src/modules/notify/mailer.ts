import type { FastifyBaseLogger } from "fastify";
import type { Clock } from "../../clock.js";
import { randomId } from "../../crypto/random.js";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A delivered message as GET /dev/mail shows it. */
export interface SentMail extends OutgoingMail {
  id: string;
  sent_at: string;
}

export interface MailTransport {
  /** Hands one message to the next hop, or throws; the mailer decides about retries. */
  deliver(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  transport: MailTransport;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Keep the last 50 delivered messages for GET /dev/mail. Never in production. @default false */
  keepOutbox?: boolean;
  /** Tries per message, the first included. @default 5 */
  maxAttempts?: number;
  /** Wait before the first retry; each later retry waits twice as long (2, 4, 8, 16 s). @default 2000 */
  firstRetryDelayInMs?: number;
  /** Messages waiting beyond this are dropped, so a dead SMTP server cannot eat the memory. @default 1000 */
  maxQueued?: number;
  /** Deliveries running at once. @default 2 */
  concurrency?: number;
  /** How long close() waits for the queue to drain. @default 5000 */
  closeTimeoutInMs?: number;
}

/** An in-memory mail queue: requests enqueue and return at once; delivery and retries happen behind them. */
export interface Mailer {
  /** Queues a message. Never throws and never waits for the network. */
  send(mail: OutgoingMail): void;
  /** Runs work that may end in send() off the request path; a failure is logged, never thrown. */
  defer(task: () => Promise<void>): void;
  /** Resolves once no message is queued, in flight or waiting to be retried and no deferred task runs. */
  idle(): Promise<void>;
  /** The last 50 delivered messages, newest first; null when the outbox is off (production). */
  outbox(): SentMail[] | null;
  /** Waits (bounded) for the queue to drain, then closes the transport. */
  close(): Promise<void>;
}

const outboxSize = 50;

/** For the CLI, which sends no mail: drops messages and deferred work alike. */
export const droppingMailer: Mailer = {
  send: () => undefined,
  defer: () => undefined,
  idle: () => Promise.resolve(),
  outbox: () => null,
  close: () => Promise.resolve(),
};

interface Job {
  id: string;
  mail: OutgoingMail;
  attempts: number;
}

/** What of a transport error is safe to log: codes and the server's words, never credentials or the message. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { reason: String(error).slice(0, 200) };
  // nodemailer adds `code` (ECONNECTION, EAUTH…) and the SMTP `responseCode` to its errors.
  const code = "code" in error ? error.code : undefined;
  const responseCode = "responseCode" in error ? error.responseCode : undefined;
  return { code, responseCode, reason: error.message.slice(0, 200) };
}

export function createMailer(options: MailerOptions): Mailer {
  const { transport, clock, log } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const firstRetryDelayInMs = options.firstRetryDelayInMs ?? 2000;
  const maxQueued = options.maxQueued ?? 1000;
  const concurrency = options.concurrency ?? 2;
  const ready: Job[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  const sent: SentMail[] = [];
  let inFlight = 0;
  let tasks = 0;
  let closing = false;
  let idleWaiters: (() => void)[] = [];

  const busy = (): boolean => ready.length + inFlight + retryTimers.size + tasks > 0;
  const settle = (): void => {
    if (busy()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  async function attempt(job: Job): Promise<void> {
    job.attempts += 1;
    try {
      await transport.deliver(job.mail);
      log.info({ mailId: job.id, attempts: job.attempts }, "mail accepted by the transport");
      if (options.keepOutbox === true) {
        sent.unshift({ id: job.id, ...job.mail, sent_at: new Date(clock.now()).toISOString() });
        sent.splice(outboxSize);
      }
    } catch (error) {
      if (job.attempts >= maxAttempts || closing) {
        log.error({ mailId: job.id, attempts: job.attempts, ...describe(error) }, "mail delivery failed; giving up");
        return;
      }
      const delayInMs = firstRetryDelayInMs * 2 ** (job.attempts - 1); // exponential backoff
      log.warn(
        { mailId: job.id, attempts: job.attempts, retryInMs: delayInMs, ...describe(error) },
        "mail delivery failed; will retry",
      );
      const timer = setTimeout(() => {
        retryTimers.delete(timer);
        ready.push(job);
        pump();
      }, delayInMs);
      timer.unref();
      retryTimers.add(timer);
    }
  }

  function pump(): void {
    while (inFlight < concurrency) {
      const job = ready.shift();
      if (job === undefined) break;
      inFlight += 1;
      void attempt(job).finally(() => {
        inFlight -= 1;
        pump();
        settle();
      });
    }
  }

  const service: Mailer = {
    send(mail) {
      if (closing || ready.length + retryTimers.size >= maxQueued) {
        log.error({ subject: mail.subject }, "mail dropped: the queue is closed or full");
        return;
      }
      ready.push({ id: randomId(), mail, attempts: 0 });
      pump();
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
          settle();
        });
    },
    idle: () => (busy() ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
    outbox: () => (options.keepOutbox === true ? [...sent] : null),
    async close() {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        service.idle(),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, options.closeTimeoutInMs ?? 5000))),
      ]);
      clearTimeout(timeout);
      closing = true;
      if (busy()) log.error({ queued: ready.length + retryTimers.size }, "mail still queued at shutdown was dropped");
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      ready.length = 0;
      transport.close();
      settle();
    },
  };
  return service;
}
