/** Wire types of the Tessera HTTP API (SPEC §2). Timestamps are ISO 8601 strings or null. */

export interface User {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  mfa_enabled: boolean;
  created_at: string;
  last_login_at: string | null;
  previous_login_at: string | null;
  roles: string[];
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  /** Lifetime of the access token, in seconds. */
  expires_in: number;
  /** The two-factor policy holds this session until two-factor is set up (it reaches nothing else). */
  enrollment_required?: true;
}

export interface SecondFactorSetup {
  secret: string;
  otpauth_url: string;
  /** A `data:image/png;base64,…` URL. */
  qr_png: string;
  /** SVG markup text. */
  qr_svg: string;
  qr_base64?: string;
  expires_in?: number;
}

export interface LoginTokens extends TokenPair {
  user?: User;
  mfa_required?: false;
}

export interface SecondFactorChallenge {
  mfa_required: true;
  "2fa_required"?: true;
  login_token: string;
  methods: string[];
  /** Seconds the login_token stays valid. */
  expires_in: number;
}

export type LoginReply = LoginTokens | SecondFactorChallenge;

export interface SignedInRegisterReply extends TokenPair {
  user: User;
  mfa_setup?: SecondFactorSetup;
  verification_required?: undefined;
}

/** With REQUIRE_EMAIL_VERIFICATION the server signs nobody in before the address is verified. */
export interface VerificationRequiredReply {
  user: User;
  verification_required: true;
}

export type RegisterReply = SignedInRegisterReply | VerificationRequiredReply;

export interface VerifySetupReply extends TokenPair {
  mfa_enabled: true;
  recovery_codes: string[];
}

export interface Session {
  id: string;
  created_at: string;
  last_used_at: string | null;
  ip: string | null;
  user_agent: string | null;
  aal: number;
  amr: string[];
  current: boolean;
}

export interface TrustedDevice {
  id: string;
  created_at: string;
  expires_at: string;
  user_agent: string | null;
}

export interface SessionList {
  sessions: Session[];
  trusted_devices: TrustedDevice[];
}

export interface SecurityEvent {
  id: string;
  type: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
}

export interface AdminUser extends User {
  locked: boolean;
}

export interface AdminEvent extends SecurityEvent {
  user_id: string | null;
  username: string | null;
  actor_id: string | null;
  actor_username: string | null;
  detail: Record<string, string | number | boolean> | null;
}

export interface Page {
  total: number;
  page: number;
  limit: number;
}

export interface AdminFactor {
  kind: string;
  name: string | null;
  created_at: string;
  count: number;
}

export interface AdminUserDetail {
  user: AdminUser;
  factors: AdminFactor[];
  sessions: Session[];
  events: AdminEvent[];
}

export interface PolicyImpact {
  users: number;
  without_second_factor: number;
}

export interface MailMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html?: string | null;
  sent_at: string;
}

export function isSecondFactorChallenge(reply: LoginReply): reply is SecondFactorChallenge {
  return reply.mfa_required === true;
}
