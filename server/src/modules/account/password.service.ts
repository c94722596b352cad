import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { AddressLinkService } from "../email/address-link.service.js";
import type { LinkService } from "../email/link.service.js";
import { deleteUserChallenges } from "../login/challenge.repository.js";
import type { Notifier } from "../notify/notifier.js";
import type { OidcService } from "../oidc/oidc.service.js";
import type { ReauthProof } from "../second-factor/second-factor.js";
import type { SecondFactorService } from "../second-factor/second-factor.service.js";
import type { TrustedDeviceService } from "../second-factor/trusted-device/trusted-device.service.js";
import type { SessionService } from "../session/session.service.js";
import type { PasswordHasher } from "../user/password.js";
import * as users from "../user/user.repository.js";
import { assertPasswordAcceptable } from "../user/user.service.js";

/** A new password, by the signed-in owner or by an emailed link; two-factor stays as it is. */
export interface PasswordService {
  /** Needs the current password (and with two-factor on a code or a passkey assertion); other sessions end. */
  changePassword(
    auth: { userId: string; sessionId: string },
    input: { current_password: string; new_password: string } & Omit<ReauthProof, "password">,
    meta: RequestMeta,
  ): Promise<void>;
  /** Answers the same for every address; the lookup and the mail happen after the reply. */
  requestPasswordReset(email: string, meta: RequestMeta, clientCookie?: string): Promise<void>;
  /** Sets the password and signs every session and remembered device out. */
  resetPassword(token: string, newPassword: string, meta: RequestMeta): Promise<void>;
}

export function createPasswordService(deps: {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  secondFactor: SecondFactorService;
  sessions: SessionService;
  devices: TrustedDeviceService;
  links: LinkService;
  addressLinks: AddressLinkService;
  audit: AuditService;
  notifier: Notifier;
  oidc: Pick<OidcService, "deleteUserRows">;
}): PasswordService {
  const { db, hasher, secondFactor, sessions, devices, links, addressLinks, audit, notifier, oidc } = deps;

  /**
   * The new hash, and everything a password change ends: sessions but `exceptSessionId`, remembered
   * devices, logins waiting for their second step (a started login must start over), and every grant
   * to another application (OpenID Connect refresh and access tokens, provider sessions).
   */
  async function replacePassword(
    userId: string,
    passwordHash: string,
    exceptSessionId: string | null,
    event: "password_changed" | "password_reset",
    meta: RequestMeta,
  ): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await users.setPasswordHash(trx, userId, passwordHash);
      await sessions.revokeOthers(userId, exceptSessionId, trx);
      await devices.revokeAll(userId, trx);
      await oidc.deleteUserRows(trx, userId);
      await deleteUserChallenges(trx, userId);
      await audit.record({ type: event, userId, meta }, trx);
    });
  }

  return {
    async changePassword(auth, input, meta) {
      const credentials = { password: input.current_password, code: input.code, webauthn: input.webauthn };
      const user = await secondFactor.reauthenticate(auth.userId, credentials, meta);
      assertPasswordAcceptable(input.new_password, "new_password", { username: user.username, email: user.email });
      const passwordHash = await hasher.hash(input.new_password);
      await replacePassword(user.id, passwordHash, auth.sessionId, "password_changed", meta);
      await notifier.notify(user, "password_changed", meta);
    },

    requestPasswordReset: (email, meta, clientCookie) =>
      addressLinks.request("password_reset", email, meta, clientCookie),

    async resetPassword(token, newPassword, meta) {
      // Check the new password before using the link up, so a refused password does not cost the link.
      const user = await addressLinks.peek("password_reset", token);
      assertPasswordAcceptable(newPassword, "new_password", { username: user.username, email: user.email });
      const passwordHash = await hasher.hash(newPassword);
      await links.consume("password_reset", token);
      await replacePassword(user.id, passwordHash, null, "password_reset", meta);
      await links.revoke(user.id, ["magic_link", "password_reset"]);
      await notifier.notify(user, "password_reset", meta);
    },
  };
}
