/**
 * Sign-in behaviour: a wrong code keeps the form with an error tied to the field, the whole
 * login works from the keyboard alone, and "remember this device" skips the code next time.
 */
import { describe, expect } from "vitest";
import type { Page } from "playwright-core";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { alertsOf, fieldError } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";

async function passwordStep(page: Page, account: TestAccount): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password", { exact: true }).fill(account.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

function codesOf(account: TestAccount): NonNullable<TestAccount["codes"]> {
  if (account.codes === undefined) throw new Error("account has no 2FA");
  return account.codes;
}

describe("sign-in behaviour", () => {
  const suite = useSuite();
  const step = stepper();

  step("a wrong code shows an error on the field and keeps the form", async () => {
    const { browser, server, problems } = suite();
    const account = await createAccount(server.baseURL, newAccount("wrong"), true);
    const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await passwordStep(page, account);
    await page.waitForURL("**/login/2fa");
    const input = page.getByLabel("Authentication code");
    await input.fill(codesOf(account).wrong());
    await page.getByRole("button", { name: "Verify" }).click();
    const error = page.getByText("That code is not right.", { exact: false });
    await error.waitFor();
    expect(page.url()).toContain("/login/2fa");
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    const errorId = await error.getAttribute("id");
    expect(await input.getAttribute("aria-describedby")).toContain(errorId ?? "missing id");
    expect(await input.isEditable()).toBe(true);
    await snap(page, "12-login-two-factor-wrong-code");
    await input.fill(await codesOf(account).next());
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/profile");
  });

  step("after too many wrong codes the sign-in ends, says why, and links back once", async () => {
    const { browser, server, problems } = suite();
    const account = await createAccount(server.baseURL, newAccount("many"), true);
    const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await passwordStep(page, account);
    await page.waitForURL("**/login/2fa");
    const input = page.getByLabel("Authentication code");
    // SPEC §2: a login_token allows at most 5 wrong codes; the 6th answer ends the challenge.
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      await input.fill(codesOf(account).wrong());
      await page.getByRole("button", { name: "Verify" }).click();
      if (attempt <= 5) await expect.poll(() => fieldError(page, input)).toMatch(/^That code is not right/);
    }
    await expect
      .poll(() => alertsOf(page))
      .toEqual(["This sign-in has ended: it took too long, or had too many wrong codes. Please sign in again."]);
    await snap(page, "12-login-two-factor-ended");
    // No field left to type into a challenge that takes no more codes, and one way on.
    expect(await page.getByRole("button", { name: "Verify" }).count()).toBe(0);
    expect(await page.getByLabel("Authentication code").count()).toBe(0);
    const links = page.locator("main").getByRole("link", { name: /sign in/i });
    expect(await links.allTextContents()).toEqual(["Sign in again"]);
    await links.click();
    await page.waitForURL("**/login");
  });

  step("a wrong password shows a form-level alert", async () => {
    const { browser, server, problems } = suite();
    const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await passwordStep(page, { ...newAccount("nobody"), password: "not-the-password" });
    await page.getByRole("alert").filter({ hasText: "The username or password is incorrect." }).waitFor();
    expect(page.url()).toContain("/login");
  });

  step("the whole sign-in works with the keyboard alone", async () => {
    const { browser, server, problems } = suite();
    const account = await createAccount(server.baseURL, newAccount("keys"), true);
    const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await page.goto("/login");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const focusedAutocomplete = (): Promise<string | null> =>
      page.evaluate(() => document.activeElement?.getAttribute("autocomplete") ?? null);
    // "webauthn": the field also offers saved passkeys (conditional UI).
    const usernameField = "username webauthn";
    for (let presses = 0; presses < 20 && (await focusedAutocomplete()) !== usernameField; presses += 1)
      await page.keyboard.press("Tab");
    expect(await focusedAutocomplete()).toBe(usernameField);
    // A keyboard user must see where the focus is.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement ?? document.body).outlineStyle)).not.toBe(
      "none",
    );
    await page.keyboard.type(account.username);
    await page.keyboard.press("Tab");
    expect(await focusedAutocomplete()).toBe("current-password");
    await page.keyboard.type(account.password);
    await page.keyboard.press("Enter");
    await page.waitForURL("**/login/2fa");
    await expect.poll(focusedAutocomplete).toBe("one-time-code");
    await page.keyboard.type(await codesOf(account).next());
    await page.keyboard.press("Enter");
    await page.waitForURL("**/profile");
    await expect.poll(() => page.getByTestId("profile-username").textContent()).toBe(account.username);
  });

  step("remember this device skips the code on the next sign-in until the device is removed", async () => {
    const { browser, server, problems } = suite();
    const account = await createAccount(server.baseURL, newAccount("device"), true);
    const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    await passwordStep(page, account);
    await page.waitForURL("**/login/2fa");
    await page.getByLabel("Authentication code").fill(await codesOf(account).next());
    await page.getByLabel(/Remember this device/).check();
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/profile");
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await passwordStep(page, account);
    await page.waitForURL("**/profile");
    const devices = page.getByTestId("trusted-devices").locator("li");
    await expect.poll(() => devices.count()).toBe(1);
    await snap(page, "13-profile-trusted-device");
    await devices
      .first()
      .getByRole("button", { name: /Remove/ })
      .click();
    await expect.poll(() => page.getByTestId("trusted-devices").count()).toBe(0);
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await passwordStep(page, account);
    await page.waitForURL("**/login/2fa");
  });

  step(
    "an address the UI does not know answers 404 with the Page not found view; its own pages answer 200",
    async () => {
      const { browser, server, problems } = suite();
      const page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
      for (const path of ["/whoami", "/login-2fa"]) {
        const response = await page.goto(path);
        expect(response?.status(), path).toBe(404);
        await page.getByRole("heading", { name: "Page not found" }).waitFor();
        expect(await page.title()).toBe("Page not found · Tessera");
      }
      await snap(page, "40-page-not-found");
      await page.getByRole("link", { name: "Go to the start page" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect((await page.goto("/forgot-password"))?.status()).toBe(200);
    },
  );

  expectNoPageProblems(suite);
});
