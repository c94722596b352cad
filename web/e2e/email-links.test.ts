/**
 * Screens behind emailed links, driven through the dev mailbox: verify email, forgot and reset
 * password (a used link is refused), magic link with and without the 2FA step, and deleting
 * the account by link.
 */
import { describe, expect } from "vitest";
import type { Page } from "playwright-core";
import { linkFromMail, newAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";
import { CodeSource } from "./harness/totp";

describe("emailed links", () => {
  const suite = useSuite();
  const step = stepper();
  const account = newAccount("mail");
  const newPassword = `${account.password}-renewed`;
  let page: Page;
  let resetLink = "";
  let codes: CodeSource;

  async function signIn(password: string): Promise<void> {
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  step("registers with an email that is not verified yet", async () => {
    const { browser, server, problems } = suite();
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await page.goto("/register");
    await page.getByLabel("Username", { exact: true }).fill(account.username);
    await page.getByLabel("Email (optional)").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByLabel("Set up two-factor authentication now").uncheck();
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/profile");
    await page.getByText("Not verified").waitFor();
  });

  step("verifies the email from a link in the dev mailbox", async () => {
    await page.getByRole("link", { name: "Dev mailbox" }).click();
    await page.waitForURL("**/dev-mailbox");
    const message = page.getByTestId("mail-message").filter({ hasText: account.email }).first();
    await message.waitFor();
    await snap(page, "14-dev-mailbox");
    await message.getByRole("link", { name: /verify-email\?token=/ }).click();
    await page.waitForURL(/\/verify-email\?token=/);
    await page.getByText("Your email address is verified.").waitFor();
    await snap(page, "15-verify-email");
    await page.getByRole("link", { name: "Go to your account" }).click();
    await page.getByText("Verified", { exact: true }).waitFor();
  });

  step("a bad verification link says so", async () => {
    await page.goto("/verify-email?token=not-a-real-token");
    await page.getByRole("alert").filter({ hasText: "invalid, already used or expired" }).waitFor();
  });

  step("asks for a password reset and sets a new password from the link", async () => {
    const { server } = suite();
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    // exact: "Username or email" on the page being left matches a substring
    await page.getByLabel("Email", { exact: true }).fill(account.email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText("a reset link is on its way").waitFor();
    await snap(page, "16-forgot-password");
    resetLink = await linkFromMail(server.baseURL, account.email, "/reset-password");
    await page.goto(resetLink);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await page.getByLabel("New password").fill(newPassword);
    await snap(page, "17-reset-password");
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.waitForURL("**/login");
    await page.getByText("Your password has been changed.").waitFor();
    await signIn(newPassword);
    await page.waitForURL("**/profile");
  });

  step("a used reset link is refused", async () => {
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await page.goto(resetLink);
    await page.getByLabel("New password").fill(`${newPassword}-again`);
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByRole("alert").filter({ hasText: "invalid, already used or expired" }).waitFor();
    await snap(page, "18-reset-password-used-link");
  });

  step("signs in with a magic link", async () => {
    const { server } = suite();
    await page.goto("/login");
    await page.getByRole("link", { name: "Email me a sign-in link" }).click();
    // exact: "Username or email" on the page being left matches a substring
    await page.getByLabel("Email", { exact: true }).fill(account.email);
    await page.getByRole("button", { name: "Email me a link" }).click();
    await page.getByText("a sign-in link is on its way").waitFor();
    await snap(page, "19-magic-link");
    await page.goto(await linkFromMail(server.baseURL, account.email, "/magic-link"));
    await page.waitForURL("**/profile");
  });

  step("turns on 2FA, after which a magic link leads to the code step", async () => {
    const { server } = suite();
    await page.getByRole("link", { name: "Turn on two-factor" }).click();
    await page.waitForURL("**/2fa/enable");
    codes = new CodeSource((await page.getByTestId("totp-secret").textContent()) ?? "");
    await page.getByLabel("6-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Continue to your account" }).click();
    await page.waitForURL("**/profile");
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await page.goto("/magic-link");
    // exact: "Username or email" on the page being left matches a substring
    await page.getByLabel("Email", { exact: true }).fill(account.email);
    await page.getByRole("button", { name: "Email me a link" }).click();
    await page.getByText("a sign-in link is on its way").waitFor();
    await page.goto(await linkFromMail(server.baseURL, account.email, "/magic-link"));
    await page.waitForURL("**/login/2fa");
    await page.getByLabel("Authentication code").fill(await codes.next());
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/profile");
  });

  step("deletes the account from an emailed link", async () => {
    const { server } = suite();
    await page.getByRole("button", { name: "Email me a deletion link" }).click();
    await page.getByText("We emailed you a link.").waitFor();
    await page.goto(await linkFromMail(server.baseURL, account.email, "/delete-account"));
    await page.getByRole("heading", { name: "Delete your account" }).waitFor();
    await snap(page, "20-delete-confirm");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByText("Your account and everything in it has been deleted.").waitFor();
    await signIn(newPassword);
    await page.getByRole("alert").filter({ hasText: "The username or password is incorrect." }).waitFor();
  });

  step("an unknown address shows the not-found page", async () => {
    await page.goto("/no/such/page");
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    await snap(page, "21-not-found");
    expect(await page.title()).toContain("Page not found");
  });

  expectNoPageProblems(suite);
});
