import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";

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

/** What the outbox holds right now, for /metrics. */
export interface OutboxStats {
  /** NaN, like `oldestAgeSeconds`, when the outbox cannot be read (the database down). */
  queued: number;
  /** Messages sent by this process since it started. */
  sent: number;
  /** Messages this process gave up on (retries ran out) since it started. */
  failed: number;
  /** Failed delivery attempts by this process since it started. */
  attemptsFailed: number;
  /** Worker passes that failed in this process (the outbox could not be read or written). */
  workerErrors: number;
  /** Age in seconds of the oldest message waiting; 0 when none waits. */
  oldestAgeSeconds: number;
}

/**
 * The transactional outbox (SPEC "Mail is never lost"): send() writes the message, encrypted, into
 * `mail_outbox` through the caller's executor, so it commits or rolls back with the change that caused
 * it; a worker in every instance claims due rows (no two instances take one row) and delivers them,
 * retrying with backoff for 24 hours.
 */
export interface Mailer {
  /** Writes a message to the outbox, in `executor`'s transaction when given; delivery happens behind it. */
  send(mail: OutgoingMail, executor?: Kysely<Database>): Promise<void>;
  /**
   * The work of send() for a message that goes to no one (encoded and encrypted, never written), so a
   * request that mails nobody takes the time of one that mails someone.
   */
  rehearse(mail: OutgoingMail): void;
  /** Runs work that may end in send() off the request path; a failure is logged, never thrown. */
  defer(task: () => Promise<void>): void;
  /** Resolves once no deferred task runs and the outbox holds no message waiting for delivery. */
  idle(): Promise<void>;
  /** The last 50 delivered messages, newest first; null when the outbox is off (production). */
  outbox(): Promise<SentMail[] | null>;
  stats(): Promise<OutboxStats>;
  /** Stops the worker, lets the send in flight finish (bounded), closes the transport. Unsent mail stays queued. */
  close(): Promise<void>;
}

/** For the CLI, which sends no mail: drops messages and deferred work alike. */
export const droppingMailer: Mailer = {
  send: () => Promise.resolve(),
  rehearse: () => undefined,
  defer: () => undefined,
  idle: () => Promise.resolve(),
  outbox: () => Promise.resolve(null),
  stats: () =>
    Promise.resolve({ queued: 0, sent: 0, failed: 0, attemptsFailed: 0, workerErrors: 0, oldestAgeSeconds: 0 }),
  close: () => Promise.resolve(),
};
