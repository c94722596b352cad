/*
 * Storage conventions, pinned by test/db/storage.test.ts:
 * timestamps are bigint Unix milliseconds, booleans are integer 0/1, ids are random base64url text.
 *
 * Table and column names are frozen with the migrations: the `mfa_*` columns of `user` keep their
 * names although the code says "second factor" (as the SPEC's wire names `mfa_enabled`,
 * `mfa_required` … do). Which module owns which table: README "Architecture".
 */
import type { OidcClientTable, OidcPayloadTable } from "./oidc-tables.js";

export type { OidcClientTable, OidcPayloadTable };

export interface UserTable {
  id: string;
  username: string;
  /** A verified address (unique): the account's identity by email. */
  email: string | null;
  /** 1 exactly when `email` is set (kept from before claims). */
  email_verified: number;
  /** An address the account claims but has not verified: not unique, never used to find an account. */
  email_claim: string | null;
  password_hash: string;
  roles: string;
  locked: number;
  mfa_enabled: number;
  /** Second-factor failures inside the current window (SPEC §3 lockout). */
  mfa_failed_count: number;
  mfa_window_started_at: number | null;
  /** Failures since the last success, across windows (NIST SP 800-63B: at most 100). */
  mfa_consecutive_failures: number;
  mfa_locked_until: number | null;
  mfa_lockouts: number;
  created_at: number;
  last_login_at: number | null;
  previous_login_at: number | null;
}

export interface SessionTable {
  id: string;
  user_id: string;
  aal: number;
  amr: string;
  created_at: number;
  /** When the person last proved a factor: at sign-in, and at each re-authentication; a refresh keeps it. */
  auth_time: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

export interface RefreshTokenTable {
  token_hash: string;
  session_id: string;
  created_at: number;
  used_at: number | null;
  /**
   * The pair this token's rotation handed out, encrypted with the app key: answered again to the same
   * token presented within the refresh grace (two tabs), cleared once the grace has passed.
   */
  successor_ciphertext: string | null;
}

export interface SigningKeyTable {
  id: string;
  algorithm: string;
  public_jwk: string;
  private_jwk_ciphertext: string;
  created_at: number;
}

export interface TOTPCredentialTable {
  id: string;
  user_id: string;
  secret_ciphertext: string;
  confirmed_at: number | null;
  expires_at: number | null;
  last_used_step: number;
  created_at: number;
}

export interface RecoveryCodeTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
  created_at: number;
}

export interface LoginChallengeTable {
  id: string;
  token_hash: string;
  user_id: string;
  first_factor: string;
  created_at: number;
  expires_at: number;
  failed_attempts: number;
  consumed_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

export interface TrustedDeviceTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_agent: string | null;
}

export interface AuditEventTable {
  /** Time-ordered: sorts by creation. */
  id: string;
  user_id: string | null;
  type: string;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
  created_at: number;
  /** The administrator who acted on `user_id`'s account; null when the person acted themselves. */
  actor_id: string | null;
}

export interface LinkTokenTable {
  id: string;
  user_id: string;
  purpose: string;
  token_hash: string;
  email: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A client that signed in to an account: its own guessing allowance (attempt/known-clients.ts). */
export interface KnownClientTable {
  user_id: string;
  /** SHA-256 of `cookie:<token>` or `ip:<address>`. */
  client_hash: string;
  created_at: number;
  expires_at: number;
}

/** One row (id 1): the two-factor policy; `require_2fa` NULL until the first start seeds it from REQUIRE_2FA. */
export interface PolicyTable {
  id: number;
  require_2fa: string | null;
  updated_at: number | null;
}

/** A WebAuthn credential (SPEC "Passkeys"): its public key is not a secret and is stored as it is. */
export interface PasskeyTable {
  id: string;
  user_id: string;
  /** SHA-256 (hex) of the base64url credential id: unique, and what a lookup uses. */
  credential_hash: string;
  /** The credential id, base64url. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The authenticator's signature counter as last seen (0: the authenticator keeps none). */
  counter: number;
  /** Comma-separated AuthenticatorTransport values, as the browser reported them. */
  transports: string;
  aaguid: string;
  /** "singleDevice" or "multiDevice" (a synced passkey). */
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A WebAuthn challenge handed out by an options route: single use, short-lived, bound to what asked for it. */
export interface WebAuthnChallengeTable {
  id: string;
  /** SHA-256 (hex) of the base64url challenge, as the client's clientDataJSON carries it. */
  challenge_hash: string;
  purpose: string;
  user_id: string | null;
  login_challenge_id: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/** Mail waiting for, or done with, delivery (notify/): one row per message. */
export interface MailOutboxTable {
  id: string;
  /** The message, encrypted with the app key (bound to the id); null once sent unless the dev outbox keeps it. */
  body_ciphertext: string | null;
  created_at: number;
  /** When a worker may take it next: now for new mail, the backoff after a failure, a lease while sending. */
  next_attempt_at: number;
  attempts: number;
  /** The worker sending it right now, if any. */
  claimed_by: string | null;
  sent_at: number | null;
  /** Set when retries ran out (24 h). */
  failed_at: number | null;
  /** The transport's error code and reply, never the message. */
  last_error: string | null;
}

/** The change bus's versions (db/bus/poll.ts): one row per table whose change other instances must hear of. */
export interface ChangeVersionTable {
  topic: string;
  version: number;
}

export interface Database {
  user: UserTable;
  session: SessionTable;
  refresh_token: RefreshTokenTable;
  signing_key: SigningKeyTable;
  totp_credential: TOTPCredentialTable;
  recovery_code: RecoveryCodeTable;
  login_challenge: LoginChallengeTable;
  trusted_device: TrustedDeviceTable;
  audit_event: AuditEventTable;
  link_token: LinkTokenTable;
  known_client: KnownClientTable;
  policy: PolicyTable;
  oidc_client: OidcClientTable;
  oidc_payload: OidcPayloadTable;
  passkey: PasskeyTable;
  webauthn_challenge: WebAuthnChallengeTable;
  mail_outbox: MailOutboxTable;
  change_version: ChangeVersionTable;
}
