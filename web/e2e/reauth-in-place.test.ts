/**
 * Re-authentication in place (SPEC §4): the server runs with REAUTH_MAX_AGE=4, so a sign-in is "old" after a short
 * wait. An action that then answers `reauth_required` opens one dialog over the page, which asks the password (and a
 * code once two-factor is on); confirming it re-authenticates and the action carries on by itself, with what the
 * person had typed; a wrong password is said on its field in the dialog; cancelling leaves the form as it was.
 */
import { describe, expect } from "vitest";
import type { Page } from "playwright-core";
import { createAccount, newAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { alertsOf, fieldError } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";
import { CodeSource } from "./harness/totp";

const reauthMaxAgeSeconds = 4;
/** Lets the sign-in (or the last re-authentication) grow older than REAUTH_MAX_AGE. */
const outlive = (page: Page): Promise<void> => page.waitForTimeout((reauthMaxAgeSeconds + 1.5) * 1000);

describe("re-authentication in place", () => {
  const suite = useSuite({ env: { REAUTH_MAX_AGE: String(reauthMaxAgeSeconds) } });
  const step = stepper();
  const account = newAccount("inplace");
  let page: Page;
  let codes: CodeSource;

  const dialog = (): ReturnType<Page["getByRole"]> => page.getByRole("dialog", { name: "Confirm it's you" });

  step("signs in with a password", async () => {
    const { browser, server, problems } = suite();
    await createAccount(server.baseURL, account, false);
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/profile");
  });

  step("turning on two-factor after the max age asks for the password in a dialog", async () => {
    await outlive(page);
    await page.getByRole("link", { name: "Turn on two-factor" }).click();
    await dialog().waitFor();
    expect(await dialog().getByLabel("Authentication code").count()).toBe(0);
    // The page behind is inert while the dialog is open; the password field has the focus.
    const password = dialog().getByLabel("Your password");
    expect(await password.evaluate((input) => input === document.activeElement)).toBe(true);
    await snap(page, "40-reauth-dialog");
  });

  step("a wrong password is said on its field, and the dialog stays", async () => {
    const password = dialog().getByLabel("Your password");
    await password.fill("not-my-password-at-all");
    await dialog().getByRole("button", { name: "Confirm and continue" }).click();
    await expect.poll(() => fieldError(page, password)).toBe("The password is not correct.");
    expect(await dialog().isVisible()).toBe(true);
    await snap(page, "41-reauth-dialog-wrong-password");
  });

  step("the right password closes the dialog and the setup carries on to its QR code", async () => {
    await dialog().getByLabel("Your password").fill(account.password);
    await dialog().getByRole("button", { name: "Confirm and continue" }).click();
    await dialog().waitFor({ state: "hidden" });
    const secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    expect(secret).toMatch(/^([A-Z2-7]{4}\s*)+[A-Z2-7]{0,4}$/);
    codes = new CodeSource(secret);
    await page.getByLabel("6-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Continue to your account" }).click();
    await page.waitForURL("**/profile");
  });

  step("with two-factor on, a change of email asks the password and a code, and keeps the typed address", async () => {
    await outlive(page);
    const section = page.locator("section", { has: page.getByRole("heading", { name: /email/i }) });
    await section.getByLabel("New email address").fill("moved.here@example.test");
    await section.getByLabel("Current password").fill(account.password);
    await section.getByRole("button", { name: "Send verification link" }).click();
    await dialog().waitFor();
    await dialog().getByLabel("Your password").fill(account.password);
    await dialog()
      .getByLabel("Authentication code")
      .fill(await codes.next());
    await snap(page, "42-reauth-dialog-with-code");
    await dialog().getByRole("button", { name: "Confirm and continue" }).click();
    await dialog().waitFor({ state: "hidden" });
    await expect
      .poll(() => section.getByRole("status").allTextContents())
      .toContain("We sent a verification link to moved.here@example.test. The address is used once you open it.");
  });

  step("cancelling leaves the form as it was and says why nothing happened", async () => {
    await outlive(page);
    const section = page.locator("section", { has: page.getByRole("heading", { name: /email/i }) });
    await section.getByLabel("New email address").fill("second.move@example.test");
    await section.getByLabel("Current password").fill(account.password);
    await section.getByRole("button", { name: "Send verification link" }).click();
    await dialog().waitFor();
    await dialog().getByRole("button", { name: "Cancel" }).click();
    await dialog().waitFor({ state: "hidden" });
    // Closed, the dialog leaves no field of its own in the page.
    expect(await page.getByLabel("Your password").count()).toBe(0);
    await expect
      .poll(() => alertsOf(page))
      .toContain("For your security, confirm it is you: enter your password again to continue.");
    expect(await section.getByLabel("New email address").inputValue()).toBe("second.move@example.test");
    expect(await fieldError(page, section.getByLabel("New email address"))).toBeNull();
  });

  expectNoPageProblems(suite);
});
