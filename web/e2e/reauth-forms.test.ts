/**
 * Every screen that asks the signed-in person for their password again (turn off two-factor, change password,
 * change email, new recovery codes, delete account) says what was wrong on the field it is about. None says "The
 * username or password is incorrect.": there is no username on these screens; that wording belongs to sign-in.
 */
import { describe, expect } from "vitest";
import type { Locator, Page } from "playwright-core";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { alertsOf, fieldError } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";

const wrongPassword = "not-my-password-at-all";
const passwordRefused = "The password is not correct.";

describe("forms that re-ask the password", () => {
  const suite = useSuite();
  const step = stepper();
  let account: TestAccount;
  let page: Page;

  function codes(): NonNullable<TestAccount["codes"]> {
    if (account.codes === undefined) throw new Error("account has no two-factor");
    return account.codes;
  }

  /** Submits a form with a wrong password and checks where and how the refusal is shown. */
  async function expectPasswordRefusedOnField(scope: Locator, password: Locator, submit: string): Promise<void> {
    await password.fill(wrongPassword);
    await scope.getByRole("button", { name: submit }).click();
    await expect.poll(() => fieldError(page, password)).toBe(passwordRefused);
    expect(await alertsOf(page)).toEqual([]);
    expect(await page.locator("body").textContent()).not.toMatch(/username or password/i);
    // The field with the problem has the focus, so it is read out with its error.
    expect(await password.evaluate((input) => input === document.activeElement)).toBe(true);
  }

  step("signs in with a password and a code", async () => {
    const { browser, server, problems } = suite();
    account = await createAccount(server.baseURL, newAccount("reauth"), true);
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/login/2fa");
    await page.getByLabel("Authentication code").fill(await codes().next());
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/profile");
  });

  step("turn off two-factor: an empty form flags the password and the code", async () => {
    await page.goto("/2fa/disable");
    await page.getByRole("button", { name: "Turn off two-factor" }).click();
    expect(await fieldError(page, page.getByLabel("Current password"))).toBe("Enter your password.");
    expect(await fieldError(page, page.getByLabel("Authentication code"))).toBe(
      "Enter the 6-digit code from your authenticator app.",
    );
  });

  step("turn off two-factor: a wrong password is shown on the password field", async () => {
    await page.getByLabel("Authentication code").fill(codes().wrong());
    const form = page.locator("form");
    await expectPasswordRefusedOnField(form, page.getByLabel("Current password"), "Turn off two-factor");
    await snap(page, "30-disable-two-factor-wrong-password");
  });

  step("turn off two-factor: a wrong recovery code is not blamed on the authenticator app", async () => {
    await page.getByLabel("Current password").fill(account.password);
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    const recoveryCode = page.getByLabel("Recovery code");
    await recoveryCode.fill("AAAA-BBBB-CCCC-DDDD");
    await page.getByRole("button", { name: "Turn off two-factor" }).click();
    await expect
      .poll(() => fieldError(page, recoveryCode))
      .toBe("That recovery code is not right, or it was already used. Check it and try again.");
    expect(await fieldError(page, page.getByLabel("Current password"))).toBeNull();
    expect(await alertsOf(page)).toEqual([]);
    await snap(page, "31-disable-two-factor-wrong-recovery-code");
  });

  step("change password: a wrong current password is shown on its field", async () => {
    await page.goto("/profile");
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Change password" }) });
    await section.getByLabel("New password").fill(`${account.password}-next`);
    await section.getByLabel("Authentication code").fill(codes().wrong());
    await expectPasswordRefusedOnField(section, section.getByLabel("Current password"), "Change password");
    await snap(page, "32-change-password-wrong-password");
  });

  step("change email: a wrong password is shown on its field", async () => {
    const section = page.locator("section", { has: page.getByRole("heading", { name: /email/i }) });
    await section.getByLabel("New email address").fill("new.address@example.test");
    await expectPasswordRefusedOnField(section, section.getByLabel("Current password"), "Send verification link");
  });

  step("new recovery codes: a wrong password is shown on its field", async () => {
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Recovery codes" }) });
    await section.getByRole("button", { name: "Create new recovery codes" }).click();
    await section.getByLabel("Authentication code").fill(codes().wrong());
    await expectPasswordRefusedOnField(section, section.getByLabel("Current password"), "Create new codes");
  });

  step("delete account: a wrong password is shown on its field", async () => {
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Delete account" }) });
    await section.getByRole("button", { name: "Delete my account…" }).click();
    await section.getByLabel("Authentication code").fill(codes().wrong());
    await expectPasswordRefusedOnField(
      section,
      section.getByLabel("Password to confirm"),
      "Delete my account permanently",
    );
    await snap(page, "33-profile-wrong-passwords");
  });

  step("the sign-in form keeps its own wording", async () => {
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(wrongPassword);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => alertsOf(page)).toEqual(["The username or password is incorrect."]);
  });

  expectNoPageProblems(suite);
});
