import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import type { RequestMeta } from "../../request-meta.js";

/** Security notices: mail without a link, telling the owner something changed (SPEC §2 Email). */
export type NoticeKind =
  | "second_factor_enabled"
  | "second_factor_disabled"
  | "recovery_codes_regenerated"
  | "passkey_added"
  | "passkey_removed"
  | "passkey_clone_suspected"
  | "recovery_code_used"
  | "password_changed"
  | "password_reset"
  | "new_device_login"
  | "email_in_use"
  | "email_changed"
  | "account_deleted";

export interface NoticeRecipient {
  id: string;
  username: string;
  email: string | null;
}

export interface Notifier {
  /**
   * Writes the notice to the mail outbox, in `executor`'s transaction when given (so it commits with the
   * change it tells of); delivery happens behind the request.
   */
  notify(user: NoticeRecipient, kind: NoticeKind, meta: RequestMeta, executor?: Kysely<Database>): Promise<void>;
}

export const silentNotifier: Notifier = { notify: () => Promise.resolve() };
