import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { isUniqueViolation } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import { unrequestedMailsPerAddress, type AccountLimit, type AccountLimiter } from "../attempt/account-limits.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Mailer } from "../notify/mailer.js";
import type { Notifier } from "../notify/notifier.js";
import type { AuthContext, SessionService } from "../session/session.service.js";
import * as users from "../user/user.repository.js";
import { normalizeEmail, type UserService } from "../user/user.service.js";
import { linksPerAddress } from "./address-link.service.js";
import type { LinkService } from "./link.service.js";

/** Email changes and deletion requests one account may make per hour. */
export const linksPerAccount: AccountLimit = { max: 5, windowInSeconds: 60 * 60 }; // 1 hour

/** The address on an account: verifying it, changing it, and the link that deletes the account. */
export interface EmailService {
  /**
   * A claimed address gets a verification link, or, when another account has verified it, its owner
   * gets a notice instead; decided and mailed after the reply, so neither tells the claimant anything.
   */
  sendVerification(user: { id: string; username: string }, email: string, meta: RequestMeta): void;
  /**
   * The new address is claimed, and attached only when its link is opened; one verified by another account never is.
   * The password re-checked here counts as re-authentication where it is the only factor; with two-factor
   * on, the sign-in must also be recent (reauth_required).
   */
  requestEmailChange(auth: AuthContext, input: { email: string; password: string }, meta: RequestMeta): Promise<void>;
  verifyEmail(token: string, meta: RequestMeta): Promise<void>;
  requestDeletion(userId: string, meta: RequestMeta): Promise<void>;
  /** Uses a deletion link up: the account it deletes (account/ deletes it); invalid_token otherwise. */
  consumeDeletionLink(token: string): Promise<users.UserRow>;
}

export function createEmailService(deps: {
  db: Kysely<Database>;
  links: LinkService;
  mailer: Mailer;
  audit: AuditService;
  notifier: Notifier;
  limits: AccountLimiter;
  users: UserService;
  sessions: SessionService;
}): EmailService {
  const { db, links, mailer, audit, notifier, limits } = deps;
  const invalid = (): AppError => new AppError("invalid_token");

  const service: EmailService = {
    sendVerification(user, email, meta) {
      // No audit event: the account's own log would then tell whether the address was free.
      mailer.defer(async () => {
        // Anyone may name any address: at most 5 such mails an hour reach it (SPEC "Accounts and login").
        const allowed = await limits.take("unrequested_mail", email, unrequestedMailsPerAddress);
        const owner = await users.findUserByEmail(db, email);
        // A link, or the same work for no one (link.service's rehearse), so timing tells nothing either.
        if (allowed && (owner === undefined || owner.id === user.id)) await links.send("verify_email", user, email);
        else await links.rehearse("verify_email");
        if (allowed && owner !== undefined && owner.id !== user.id) await notifier.notify(owner, "email_in_use", meta);
      });
    },

    async requestEmailChange(auth, input, meta) {
      // SPEC "Re-authentication": a request carrying the password (and, with two-factor on, a code) counts as
      // re-authenticated. This one carries no code, so a two-factor account also needs a recent sign-in.
      if (auth.secondFactorEnabled) deps.sessions.assertRecentAuth(auth);
      const userId = auth.userId;
      const user = await deps.users.checkPassword(userId, input.password, meta);
      const email = normalizeEmail(input.email);
      await limits.consume("email_change", user.id, linksPerAccount);
      await limits.consume("verify_email", email, linksPerAddress);
      await audit.record({ type: "email_change_requested", userId, meta });
      // Only claimed: the verified address (if any) stays the account's until the new one is verified.
      await users.setEmailClaim(db, user.id, email);
      // The lookup runs after the reply, so neither the answer nor its timing tells whether the address is taken.
      service.sendVerification(user, email, meta);
    },

    async verifyEmail(token, meta) {
      const link = await links.consume("verify_email", token);
      const email = link.email;
      const user = await users.findUserById(db, link.user_id);
      // Only the address the account claims now: a link to an address claimed before a newer change is dead.
      if (email === null || user === undefined || user.email_claim !== email) throw invalid();
      // The address may have been verified by another account since the link was sent: the first owns it.
      const owner = await users.findUserByEmail(db, email);
      if (owner !== undefined && owner.id !== user.id) throw invalid();
      try {
        await db.transaction().execute((trx) => users.setVerifiedEmail(trx, user.id, email));
      } catch (error) {
        if (isUniqueViolation(error)) throw invalid();
        throw error;
      }
      // The other claims were dropped with it: their verification links die too.
      await links.revokeAddress("verify_email", email);
      await audit.record({ type: "email_verified", userId: user.id, meta });
      if (user.email !== email) {
        // Links already mailed to the old address must not outlive the change.
        await links.revoke(user.id, ["magic_link", "password_reset", "delete_account"]);
        if (user.email !== null) await notifier.notify(user, "email_changed", meta);
      }
    },

    async requestDeletion(userId, meta) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("unauthorized");
      // The link deletes the account, so it only goes to an address the owner proved to hold.
      if (user.email === null || user.email_verified !== 1) {
        throw new AppError(
          "forbidden",
          "Add and verify an email address first, or delete the account with your password.",
        );
      }
      await limits.consume("delete_account", user.id, linksPerAccount);
      await links.send("delete_account", user, user.email);
      await audit.record({ type: "delete_requested", userId, meta });
    },

    async consumeDeletionLink(token) {
      const link = await links.consume("delete_account", token);
      const user = await users.findUserById(db, link.user_id);
      if (user === undefined || user.email !== link.email) throw invalid();
      return user;
    },
  };
  return service;
}
