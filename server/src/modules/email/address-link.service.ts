import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import { unrequestedMailsPerAddress, type AccountLimit, type AccountLimiter } from "../attempt/account-limits.js";
import type { KnownClients } from "../attempt/known-clients.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Mailer } from "../notify/mailer.js";
import * as users from "../user/user.repository.js";
import { normalizeEmail } from "../user/user.service.js";
import type { LinkService } from "./link.service.js";

/** Mails one address may receive per purpose and hour, whoever asks: no mail bombing, no token farming. */
export const linksPerAddress: AccountLimit = { max: 5, windowInSeconds: 60 * 60 }; // 1 hour

export type AddressLinkPurpose = "magic_link" | "password_reset";

/**
 * Links asked for by address, for someone who cannot sign in (login/'s sign-in link, account/'s
 * password reset). Only a verified address gets one, and no answer tells whether it has an account.
 */
export interface AddressLinkService {
  /**
   * Answers the same for every address; the mail happens after the reply. A client that signed in to the
   * address's account before (`clientCookie`, or its IP) has an allowance of its own, so strangers can use
   * up theirs but never the owner's; a stranger's request is also one of the address's unrequested mails.
   */
  request(purpose: AddressLinkPurpose, email: string, meta: RequestMeta, clientCookie?: string): Promise<void>;
  /** The account behind a live link, which this uses up; invalid_token unless it went to the account's address. */
  consume(purpose: AddressLinkPurpose, token: string): Promise<users.UserRow>;
  /** The same, leaving the link usable. */
  peek(purpose: AddressLinkPurpose, token: string): Promise<users.UserRow>;
}

export function createAddressLinkService(deps: {
  db: Kysely<Database>;
  links: LinkService;
  mailer: Mailer;
  audit: AuditService;
  limits: AccountLimiter;
  knownClients: KnownClients;
}): AddressLinkService {
  const { db, links, mailer, audit, limits, knownClients } = deps;

  /** The account behind a link, provided the link went to the address the account has now. */
  async function ownerOf(link: { user_id: string; email: string | null }): Promise<users.UserRow> {
    const user = await users.findUserById(db, link.user_id);
    if (user === undefined || user.email === null || user.email !== link.email || user.email_verified !== 1)
      throw new AppError("invalid_token");
    return user;
  }

  return {
    async request(purpose, email, meta, clientCookie) {
      const address = normalizeEmail(email);
      // The same two queries for known and unknown addresses, so neither their time nor a 429 tells anything.
      const user = await users.findUserByEmail(db, address);
      const own = await knownClients.allowanceKey(user?.id ?? null, { cookie: clientCookie, ip: meta.ip });
      if (own === null) await limits.consume(purpose, address, linksPerAddress);
      else await limits.consume(`${purpose}_known`, own, linksPerAddress);
      mailer.defer(async () => {
        const unrequested =
          own === null && !(await limits.take("unrequested_mail", address, unrequestedMailsPerAddress));
        // SPEC §2: sign-in links and resets go only to verified addresses (user.email is verified). When none
        // goes out, the same work is done for no one: the next request's time must not tell the difference.
        const type = purpose === "magic_link" ? "magic_link_requested" : "password_reset_requested";
        if (user === undefined || user.locked === 1 || unrequested) {
          await links.rehearse(purpose);
          // Recorded as well (for administrators: someone asks for links to no account), and the same write.
          await audit.record({ type, userId: null, meta, detail: { sent: false } });
          return;
        }
        await links.send(purpose, user, address);
        await audit.record({ type, userId: user.id, meta });
      });
    },

    consume: async (purpose, token) => ownerOf(await links.consume(purpose, token)),
    peek: async (purpose, token) => ownerOf(await links.peek(purpose, token)),
  };
}
