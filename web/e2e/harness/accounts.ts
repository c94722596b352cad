import { randomBytes } from "node:crypto";
import { CodeSource } from "./totp";

export interface TestAccount {
  username: string;
  email: string;
  password: string;
  /** Present when the account has 2FA on. */
  codes?: CodeSource;
  recoveryCodes?: string[];
}

/** A unique, strong-enough account description (nothing created yet). */
export function newAccount(prefix: string): TestAccount {
  const suffix = randomBytes(4).toString("hex");
  return {
    username: `${prefix}_${suffix}`,
    email: `${prefix}.${suffix}@example.test`,
    password: `quiet-ledger-${suffix}-harbour-71`,
  };
}

async function call<T>(baseURL: string, path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${baseURL}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return (text === "" ? null : JSON.parse(text)) as T;
}

/** Creates an account through the API (not the UI), optionally with 2FA already on. */
export async function createAccount(
  baseURL: string,
  account: TestAccount,
  withSecondFactor: boolean,
): Promise<TestAccount> {
  const registered = await call<{ access_token: string; mfa_setup?: { secret: string } }>(
    baseURL,
    "/api/auth/register",
    {
      username: account.username,
      password: account.password,
      email: account.email,
      enable_mfa: withSecondFactor,
    },
  );
  if (!withSecondFactor) return account;
  if (registered.mfa_setup === undefined) throw new Error("register with enable_mfa: true answered without mfa_setup");
  const codes = new CodeSource(registered.mfa_setup.secret);
  const confirmed = await call<{ recovery_codes: string[] }>(
    baseURL,
    "/api/auth/2fa/verify-setup",
    { code: await codes.next() },
    registered.access_token,
  );
  return { ...account, codes, recoveryCodes: confirmed.recovery_codes };
}

export interface MailMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  sent_at: string;
}

/** Links already handed out: each call answers a link not seen before, whatever order /dev/mail lists mail in. */
const handedOut = new Set<string>();

/** A captured mail to `to` whose text links to `path` and that no earlier call returned, polling briefly. */
export async function linkFromMail(baseURL: string, to: string, path: string): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"'<>]*${path.replace(/[/?]/g, "\\$&")}\\?token=[^\\s"'<>]+`);
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const response = await fetch(`${baseURL}/dev/mail`);
    if (response.ok) {
      const { messages } = (await response.json()) as { messages: MailMessage[] };
      for (const message of messages) {
        const link = message.to.includes(to) ? pattern.exec(message.text)?.[0] : undefined;
        if (link !== undefined && !handedOut.has(link)) {
          handedOut.add(link);
          return link;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no mail to ${to} with a ${path} link arrived in GET /dev/mail`);
}
