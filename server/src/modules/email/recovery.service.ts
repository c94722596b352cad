import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { AccountLimiter } from "../attempt/account-limits.js";
import type { AuditService, RequestMeta } from "../audit/audit.service.js";
import type { AuthService, LoginResult } from "../auth/auth.service.js";
import type { DeviceService } from "../device/device.service.js";
import type { SessionService } from "../session/session.service.js";
import type { PasswordHasher } from "../user/password.js";
import { deleteUserChallenges } from "../challenge/challenge.repository.js";
import * as users from "../user/user.repository.js";
import { assertPasswordAcceptable, normalizeEmail } from "../user/user.service.js";
import { linksPerAddress } from "./email.service.js";
import type { LinkService } from "./link.service.js";
import type { Mailer } from "./mailer.js";
import type { Notifier } from "./notifier.js";

/** Getting back in by email: a sign-in link (a first factor only) and a password reset. */
export interface RecoveryService {
  /** Answers the same for every address; the lookup and the mail happen after the reply. */
  requestMagicLink(email: string, meta: RequestMeta): Promise<void>;
  /** Tokens, or the same mfa_required challenge as a password login when 2FA is on. */
  loginWithMagicLink(token: string, meta: RequestMeta): Promise<LoginResult>;
  requestPasswordReset(email: string, meta: RequestMeta): Promise<void>;
  /** Sets the password, keeps 2FA as it is, and signs every session and remembered device out. */
  resetPassword(token: string, newPassword: string, meta: RequestMeta): Promise<void>;
}

export function createRecoveryService(deps: {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  links: LinkService;
  mailer: Mailer;
  audit: AuditService;
  notifier: Notifier;
  limits: AccountLimiter;
  auth: Pick<AuthService, "completeFirstFactor">;
  sessions: Pick<SessionService, "revokeOthers">;
  devices: Pick<DeviceService, "revokeAll">;
}): RecoveryService {
  const { db, hasher, links, mailer, audit, notifier, limits } = deps;
  const invalid = (): AppError => new AppError("invalid_token");

  async function requestByAddress(
    purpose: "magic_link" | "password_reset",
    email: string,
    meta: RequestMeta,
  ): Promise<void> {
    const address = normalizeEmail(email);
    // Counted for known and unknown addresses alike, so a 429 tells nothing about the account either.
    await limits.consume(purpose, address, linksPerAddress);
    mailer.defer(async () => {
      const user = await users.findUserByEmail(db, address);
      // SPEC §2: sign-in links and resets go only to verified addresses.
      if (user === undefined || user.email_verified !== 1 || user.locked === 1) return;
      await links.send(purpose, user, address);
      await audit.record({
        type: purpose === "magic_link" ? "magic_link_requested" : "password_reset_requested",
        userId: user.id,
        meta,
      });
    });
  }

  /** The account behind a link, provided the link went to the address the account has now. */
  async function ownerOf(link: { user_id: string; email: string | null }): Promise<users.UserRow> {
    const user = await users.findUserById(db, link.user_id);
    if (user === undefined || user.email === null || user.email !== link.email || user.email_verified !== 1)
      throw invalid();
    return user;
  }

  return {
    requestMagicLink: (email, meta) => requestByAddress("magic_link", email, meta),

    async loginWithMagicLink(token, meta) {
      const user = await ownerOf(await links.consume("magic_link", token));
      // A first factor only: with 2FA on this is a login challenge, never tokens. No device cookie is
      // honoured here, so a link read from someone's mailbox still needs the code.
      return deps.auth.completeFirstFactor(user, "email", meta);
    },

    requestPasswordReset: (email, meta) => requestByAddress("password_reset", email, meta),

    async resetPassword(token, newPassword, meta) {
      // Check the new password before using the link up, so a refused password does not cost the link.
      const user = await ownerOf(await links.peek("password_reset", token));
      assertPasswordAcceptable(newPassword, "new_password", { username: user.username, email: user.email });
      const passwordHash = await hasher.hash(newPassword);
      await links.consume("password_reset", token);
      await db.transaction().execute(async (trx) => {
        await users.updateUser(trx, user.id, { password_hash: passwordHash });
        await deps.sessions.revokeOthers(user.id, null, trx);
        await deps.devices.revokeAll(user.id, trx);
        await deleteUserChallenges(trx, user.id);
        await audit.record({ type: "password_reset", userId: user.id, meta }, trx);
      });
      await links.revoke(user.id, ["magic_link", "password_reset"]);
      notifier.notify(user, "password_reset", meta);
    },
  };
}
