import type { RequestMeta } from "../../request-meta.js";

/*
 * The audit log's event schema. Event types are stored in audit_event.type and answered by
 * GET /api/user/audit and /api/admin/audit: like the SPEC's wire names, they are frozen
 * (the "mfa_*" ones included).
 */

export type AuditEventType =
  | "register"
  | "login_succeeded"
  | "login_failed"
  | "logout"
  /** A session proved its person again (POST /api/auth/reauth): its `auth_time` was renewed. */
  | "reauthenticated"
  | "password_changed"
  | "password_reset"
  | "session_revoked"
  | "refresh_token_reused"
  | "account_deleted"
  | "mfa_enabled"
  | "mfa_disabled"
  | "mfa_failed"
  | "mfa_locked"
  | "recovery_code_used"
  | "recovery_codes_regenerated"
  | "mfa_reset_by_admin"
  | "passkey_added"
  | "passkey_renamed"
  | "passkey_removed"
  /** A passkey's signature counter went backwards: the assertion was refused (a cloned authenticator?). */
  | "passkey_clone_suspected"
  | "trusted_device_added"
  | "trusted_device_revoked"
  | "email_verified"
  | "email_change_requested"
  | "magic_link_requested"
  | "password_reset_requested"
  | "delete_requested"
  | "account_locked"
  | "account_unlocked"
  /** An administrator ended every session of the user. */
  | "sessions_revoked_by_admin"
  /** An administrator set the user's roles (detail: `roles`, comma-separated). */
  | "roles_changed"
  /** The two-factor policy changed (detail: `from`, `to`); `userId` is the administrator. */
  | "policy_changed"
  /** An application was registered to sign in through Tessera (OIDC), or removed; detail: client_id. */
  | "oidc_client_created"
  | "oidc_client_removed"
  /** A person let an application sign them in (OIDC); detail: client_id. */
  | "oidc_authorized";

export interface AuditInput {
  type: AuditEventType;
  userId: string | null;
  /** The administrator acting on `userId`'s account (SPEC §2: every admin action names its actor). */
  actorId?: string | null;
  meta: RequestMeta;
  /** Non-secret facts only (ids, reasons); never codes, tokens or passwords. */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditEventView {
  id: string;
  type: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  user_id: string | null;
  username: string | null;
  actor_id: string | null;
  actor_username: string | null;
  detail: Record<string, unknown> | null;
}
