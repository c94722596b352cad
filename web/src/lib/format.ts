/** Display helpers for timestamps, user agents and audit event types. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "12 Mar 2025, 14:03" in the reader's locale; `fallback` for null or a bad value. */
export function formatDateTime(iso: string | null | undefined, fallback = "Never"): string {
  if (iso === null || iso === undefined) return fallback;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? fallback : dateTime.format(date);
}

const browsers: [RegExp, string][] = [
  [/Edg\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/Firefox\//, "Firefox"],
  [/HeadlessChrome\//, "Headless Chrome"],
  [/Chrome\/|Chromium\//, "Chrome"],
  [/Safari\//, "Safari"],
  [/curl\//, "curl"],
  [/node|undici/i, "Node.js"],
];
const systems: [RegExp, string][] = [
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** "Chrome on Linux" from a User-Agent header; "Unknown device" when there is none. */
export function describeUserAgent(userAgent: string | null | undefined): string {
  if (userAgent === null || userAgent === undefined || userAgent.trim() === "") return "Unknown device";
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser !== undefined && system !== undefined) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}

const eventLabels: Record<string, string> = {
  register: "Account created",
  login_succeeded: "Signed in",
  login_failed: "Failed sign-in attempt",
  logout: "Signed out",
  reauthenticated: "Confirmed it was you (password entered again)",
  mfa_enabled: "Two-factor turned on",
  mfa_disabled: "Two-factor turned off",
  mfa_failed: "Wrong two-factor code",
  mfa_locked: "Two-factor locked after too many wrong codes",
  mfa_reset: "Two-factor reset by an administrator",
  recovery_code_used: "Recovery code used",
  recovery_codes_regenerated: "New recovery codes created",
  password_changed: "Password changed",
  password_reset: "Password reset by email",
  password_reset_requested: "Password reset requested",
  email_change_requested: "Email change requested",
  email_verified: "Email verified",
  magic_link_requested: "Sign-in link requested",
  session_revoked: "Session signed out",
  trusted_device_revoked: "Trusted device removed",
  passkey_added: "Passkey added",
  passkey_renamed: "Passkey renamed",
  passkey_removed: "Passkey removed",
  passkey_clone_suspected: "Passkey refused: it may have been copied",
  account_locked: "Account locked by an administrator",
  account_unlocked: "Account unlocked by an administrator",
  sessions_revoked_by_admin: "Signed out everywhere by an administrator",
  mfa_reset_by_admin: "Two-factor reset by an administrator",
  roles_changed: "Roles changed",
  policy_changed: "Two-factor policy changed",
  account_deleted: "Account deleted",
  oidc_client_created: "Application registered (OpenID Connect)",
  oidc_client_removed: "Application removed (OpenID Connect)",
  oidc_authorized: "Signed in to an application",
  delete_requested: "Account deletion requested",
};

/** "Two-factor turned on" for `mfa_enabled`; unknown types are turned into words. */
export function describeEvent(type: string): string {
  const label = eventLabels[type];
  if (label !== undefined) return label;
  const words = type.replace(/[_.-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Events that deserve a warning colour in lists. */
export function isWarningEvent(type: string): boolean {
  return /failed|locked|revoked|disabled|reset|used|clone/.test(type);
}

/** Recovery codes left at which the profile warns: a few lost logins away from being locked out. */
export const fewRecoveryCodes = 3;

/** What the profile says of the recovery codes left; `warn` when it is time to make a new set. */
export function recoveryCodesLeftMessage(remaining: number): { text: string; warn: boolean } {
  if (remaining === 0)
    return { text: "No recovery codes left. Create a new set now, or a lost phone locks you out.", warn: true };
  const count = `${remaining} of 10 recovery codes left`;
  if (remaining <= fewRecoveryCodes) return { text: `Only ${count}. Create a new set soon.`, warn: true };
  return { text: `${count}.`, warn: false };
}
