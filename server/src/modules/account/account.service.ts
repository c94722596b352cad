import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import type { RequestMeta } from "../../request-meta.js";
import { deleteUserAuditEvents } from "../audit/audit.repository.js";
import { deleteUserKnownClients } from "../attempt/known-clients.js";
import type { AuditService } from "../audit/audit.service.js";
import type { EmailService } from "../email/email.service.js";
import { deleteUserLinks } from "../email/link-token.repository.js";
import { deleteUserChallenges } from "../login/challenge.repository.js";
import type { Notifier } from "../notify/notifier.js";
import type { OidcService } from "../oidc/oidc.service.js";
import type { ReauthProof } from "../second-factor/second-factor.js";
import type { SecondFactorService } from "../second-factor/second-factor.service.js";
import { deleteUserDevices } from "../second-factor/trusted-device/trusted-device.repository.js";
import type {
  TrustedDeviceService,
  TrustedDeviceView,
} from "../second-factor/trusted-device/trusted-device.service.js";
import { deleteUserSessions } from "../session/session.repository.js";
import type { AuthContext, SessionService, SessionView } from "../session/session.service.js";
import { assertAnotherAdminRemains } from "../user/last-admin.js";
import * as users from "../user/user.repository.js";

/** The account as a whole, across every module that holds a part of it. */
export interface AccountService {
  /** The signed-in user's sessions and remembered devices, for one page. */
  listSessions(auth: AuthContext): Promise<{ sessions: SessionView[]; trusted_devices: TrustedDeviceView[] }>;
  /** Needs the password (and with two-factor on a code or a passkey assertion). */
  deleteAccount(userId: string, input: ReauthProof, meta: RequestMeta): Promise<void>;
  /** By the emailed link (email/ checks it); the owner is told at the address on file. */
  confirmDeletion(token: string, meta: RequestMeta): Promise<void>;
  /**
   * Deletes the account and every row of it, in one transaction (also the CLI's `user delete` and the admin API,
   * which pass the acting administrator). 409 last_admin for the last unlocked administrator.
   */
  deleteAccountNow(userId: string, meta: RequestMeta, actorId?: string | null): Promise<void>;
}

export function createAccountService(deps: {
  db: Kysely<Database>;
  secondFactor: SecondFactorService;
  sessions: SessionService;
  devices: TrustedDeviceService;
  email: EmailService;
  audit: AuditService;
  notifier: Notifier;
  oidc: Pick<OidcService, "deleteUserRows">;
}): AccountService {
  const { db, secondFactor, sessions, devices, email, audit, notifier, oidc } = deps;

  const service: AccountService = {
    async listSessions(auth) {
      const [list, trusted] = await Promise.all([sessions.list(auth), devices.list(auth.userId)]);
      return { sessions: list, trusted_devices: trusted };
    },

    async deleteAccount(userId, input, meta) {
      await secondFactor.reauthenticate(userId, input, meta);
      await service.deleteAccountNow(userId, meta);
    },

    async confirmDeletion(token, meta) {
      const user = await email.consumeDeletionLink(token);
      await service.deleteAccountNow(user.id, meta);
      await notifier.notify(user, "account_deleted", meta);
    },

    async deleteAccountNow(userId, meta, actorId = null) {
      await db.transaction().execute(async (trx) => {
        // Under the administration lock (then the user row, as below): the last administrator stays.
        await assertAnotherAdminRemains(trx, userId);
        // The user row first, as every other transaction that writes a user's rows takes it: a login
        // committing at the same time then waits for the deletion instead of deadlocking with it
        // (MySQL) or leaving rows behind it (PostgreSQL), and finds no user to log in.
        await users.deleteUser(trx, userId);
        await deleteUserSessions(trx, userId);
        await secondFactor.removeFactors(userId, trx);
        await deleteUserChallenges(trx, userId);
        await deleteUserDevices(trx, userId);
        await deleteUserLinks(trx, userId);
        await deleteUserKnownClients(trx, userId);
        await deleteUserAuditEvents(trx, userId);
        await oidc.deleteUserRows(trx, userId);
        // Only the id: nothing that names the account outlives it.
        const detail = { user_id: userId };
        await audit.record({ type: "account_deleted", userId: null, actorId, meta, detail }, trx);
      });
    },
  };
  return service;
}
