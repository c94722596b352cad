import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomId, randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import * as repo from "./link-token.repository.js";
import type { Mailer } from "../notify/mailer.js";
import { linkMail, type LinkPurpose } from "../notify/templates.js";

export type { LinkPurpose } from "../notify/templates.js";
export type { LinkTokenRow } from "./link-token.repository.js";

/** How long each kind of emailed link lives (SPEC §2 Email). */
export const linkLifetimesInSeconds: Record<LinkPurpose, number> = {
  verify_email: 60 * 60 * 24, // 24 hours
  magic_link: 60 * 15, // 15 minutes
  password_reset: 60 * 30, // 30 minutes
  delete_account: 60 * 30, // 30 minutes
};

/** Pages of the web UI that receive each link as `?token=…`. */
const linkPaths: Record<LinkPurpose, string> = {
  verify_email: "/verify-email",
  magic_link: "/magic-link",
  password_reset: "/reset-password",
  delete_account: "/delete-account",
};

/**
 * Emailed single-use links: 256 random bits, stored as a SHA-256 hash, bound to one user, one
 * purpose and one address.
 */
export interface LinkService {
  /** Issues a link (older links of the same purpose die) and queues the mail that carries it to `to`. */
  send(purpose: LinkPurpose, user: { id: string; username: string }, to: string): Promise<void>;
  /**
   * The work of send() for no one: the same statements on a row deleted again and the same mail built and
   * dropped, so that the time after a reply never tells whether a link went out (background link work).
   */
  rehearse(purpose: LinkPurpose): Promise<void>;
  /** The live link behind a token, without using it up; throws invalid_token. */
  peek(purpose: LinkPurpose, token: string): Promise<repo.LinkTokenRow>;
  /** Uses the link up; throws invalid_token when it is unknown, of another purpose, used or expired. */
  consume(purpose: LinkPurpose, token: string): Promise<repo.LinkTokenRow>;
  revoke(userId: string, purposes: readonly LinkPurpose[]): Promise<void>;
  /** Kills every link of one purpose mailed to an address, for any account. */
  revokeAddress(purpose: LinkPurpose, email: string): Promise<void>;
}

export function createLinkService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  mailer: Mailer;
  publicUrl: string;
}): LinkService {
  const { db, clock, mailer } = deps;
  const invalid = (): AppError => new AppError("invalid_token");

  const service: LinkService = {
    async send(purpose, user, to) {
      const token = randomToken(256);
      const now = clock.now();
      const lifetimeInSeconds = linkLifetimesInSeconds[purpose];
      // Links come from PUBLIC_URL only, never from the request's Host header (host-header poisoning).
      const url = `${deps.publicUrl}${linkPaths[purpose]}?token=${encodeURIComponent(token)}`;
      const mail = { to, ...linkMail(purpose, { username: user.username, url, lifetimeInSeconds }) };
      // The link and its mail commit together: no link without its mail, no mail with a dead link.
      await db.transaction().execute(async (trx) => {
        await repo.replaceLinkToken(trx, {
          id: randomId(),
          user_id: user.id,
          purpose,
          token_hash: hashSecret(token),
          email: to,
          created_at: now,
          expires_at: now + lifetimeInSeconds * 1000,
          used_at: null,
        });
        await mailer.send(mail, trx);
      });
    },

    async rehearse(purpose) {
      const token = randomToken(256);
      const now = clock.now();
      const lifetimeInSeconds = linkLifetimesInSeconds[purpose];
      const url = `${deps.publicUrl}${linkPaths[purpose]}?token=${encodeURIComponent(token)}`;
      const mail = { to: "nobody@invalid", ...linkMail(purpose, { username: "", url, lifetimeInSeconds }) };
      // The shape of send(): one transaction writing a link row (nobody's, gone before it commits) and
      // encrypting a message, so the requests after this one cannot tell it from a real link.
      await db.transaction().execute(async (trx) => {
        const id = randomId();
        await repo.replaceLinkToken(trx, {
          id,
          user_id: randomId(),
          purpose,
          token_hash: hashSecret(token),
          email: null,
          created_at: now,
          expires_at: now,
          used_at: null,
        });
        mailer.rehearse(mail);
        await repo.deleteLinkToken(trx, id);
      });
    },

    async peek(purpose, token) {
      const row = await repo.findLiveLinkToken(db, hashSecret(token), purpose, clock.now());
      if (row === undefined) throw invalid();
      return row;
    },

    async consume(purpose, token) {
      const row = await service.peek(purpose, token);
      if (!(await repo.consumeLinkToken(db, row.id, clock.now()))) throw invalid();
      return row;
    },

    revoke: (userId, purposes) => repo.deleteLinkTokens(db, userId, purposes),
    revokeAddress: (purpose, email) => repo.deleteAddressLinks(db, purpose, email),
  };
  return service;
}
