/**
 * The whole life of an account in the browser: register → enable 2FA (secret read from the
 * page, code computed here) → save recovery codes → sign out → sign in with a code → sign in
 * elsewhere with a recovery code → revoke the other session → disable 2FA → delete the account.
 */
import { readFileSync } from "node:fs";
import { describe, expect } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { newAccount } from "./harness/accounts";
import { desktop, newWatchedContext, phone } from "./harness/browser";
import { fieldError } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";
import { CodeSource } from "./harness/totp";

describe("two-factor account lifecycle", () => {
  const suite = useSuite();
  const step = stepper();
  const account = newAccount("alice");
  let first: BrowserContext;
  let second: BrowserContext;
  let page: Page;
  let other: Page;
  let codes: CodeSource;
  let recoveryCodes: string[] = [];

  step("an empty registration form flags every required field, and a short password gets one message", async () => {
    const { browser, server, problems } = suite();
    first = await newWatchedContext(browser, server.baseURL, problems);
    page = await first.newPage();
    await page.goto("/register");
    const username = page.getByLabel("Username", { exact: true });
    const password = page.getByLabel("Password", { exact: true });
    await page.getByRole("button", { name: "Create account" }).click();
    expect(await fieldError(page, username)).toBe("Enter a username.");
    expect(await fieldError(page, password)).toBe("Enter a password.");
    expect(await page.getByLabel("Email (optional)").getAttribute("aria-invalid")).toBeNull();
    // The first field to fix has the focus, so a screen reader reads its error.
    expect(await username.evaluate((input) => input === document.activeElement)).toBe(true);
    await snap(page, "01-register-empty");
    await username.fill(account.username);
    await password.fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => fieldError(page, password)).toBe("Use at least 8 characters.");
    // Said once: the hint under the field, which says the same, steps aside while the error shows.
    expect(await page.locator("main").textContent()).not.toMatch(/Use at least 8 characters.*Use at least 8/);
    expect(await fieldError(page, username)).toBeNull();
    await snap(page, "01-register-short-password");
  });

  step("registers with a password strength meter", async () => {
    await page.getByLabel("Username", { exact: true }).fill(account.username);
    await page.getByLabel("Email (optional)").fill(account.email);
    const password = page.getByLabel("Password", { exact: true });
    await password.fill("password");
    await expect.poll(() => page.locator("meter").getAttribute("value")).toBe("0");
    // The server's own reasons (error.details) appear on the field.
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => password.getAttribute("aria-invalid")).toBe("true");
    // One reason, one sentence.
    expect(await fieldError(page, password)).toBe("Password is one of the most common passwords; choose another.");
    await snap(page, "01-register-rejected-password");
    await password.fill(account.password);
    await expect.poll(() => page.locator("meter").getAttribute("value")).toMatch(/[34]/);
    expect(await page.getByLabel("Set up two-factor authentication now").isChecked()).toBe(true);
    await snap(page, "01-register");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/2fa/enable");
  });

  step("enables 2FA with the secret shown on the page", async () => {
    const secretText = await page.getByTestId("totp-secret").textContent();
    expect(secretText).toMatch(/^([A-Z2-7]{4}\s*)+[A-Z2-7]{0,4}$/);
    expect(await page.getByRole("img", { name: /QR code/ }).getAttribute("src")).toMatch(/^data:image\/(svg\+xml|png)/);
    codes = new CodeSource(secretText ?? "");
    await snap(page, "02-enable-two-factor");
    await page.getByLabel("6-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
  });

  step("shows 10 recovery codes to download, and asks to confirm they are saved", async () => {
    recoveryCodes = (await page.getByTestId("recovery-codes").locator("li .code").allTextContents()).map((code) =>
      code.trim(),
    );
    expect(recoveryCodes).toHaveLength(10);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download .txt" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("tessera-recovery-codes.txt");
    const text = readFileSync(await download.path(), "utf8");
    for (const code of recoveryCodes) expect(text).toContain(code);
    const proceed = page.getByRole("button", { name: "Continue to your account" });
    expect(await proceed.isDisabled()).toBe(true);
    await snap(page, "03-recovery-codes");
  });

  step("keeps the page and its title when leaving the unsaved codes through the nav is cancelled", async () => {
    expect(await page.title()).toBe("Turn on two-factor · Tessera");
    const asked = new Promise<string>((resolve) => {
      page.once("dialog", (dialog) => {
        resolve(dialog.message());
        void dialog.dismiss();
      });
    });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    expect(await asked).toMatch(/recovery codes/);
    await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
    expect(page.url()).toMatch(/\/2fa\/enable$/);
    expect(await page.title()).toBe("Turn on two-factor · Tessera");
  });

  step("shows every recovery code whole, on one line, with room inside its box, the tenth too", async () => {
    for (const size of [desktop, phone]) {
      await page.setViewportSize(size);
      const room = await page.getByTestId("recovery-codes").evaluate((list) => {
        const box = list.getBoundingClientRect();
        const style = getComputedStyle(list);
        const inner = {
          left: box.left + Number.parseFloat(style.borderLeftWidth),
          right: box.right - Number.parseFloat(style.borderRightWidth),
        };
        return [...list.querySelectorAll("li")].map((item) => {
          const parts = [...item.children].map((part) => part.getBoundingClientRect());
          const text = document.createRange();
          text.selectNodeContents(item.querySelector(".code") ?? item);
          return {
            code: item.textContent?.trim(),
            parts: parts.length,
            left: Math.min(...parts.map((part) => part.left)) - inner.left,
            right: inner.right - Math.max(...parts.map((part) => part.right)),
            lines: new Set([...text.getClientRects()].map((line) => Math.round(line.top))).size,
          };
        });
      });
      expect(room).toHaveLength(10);
      for (const item of room) {
        const where = `${item.code} at ${size.width} px`;
        expect(item.parts, `${where}: a number and a code`).toBe(2);
        expect(item.left, `${where}: room on the left`).toBeGreaterThanOrEqual(12);
        expect(item.right, `${where}: room on the right`).toBeGreaterThanOrEqual(12);
        expect(item.lines, `${where}: on one line`).toBe(1);
      }
    }
    await page.setViewportSize(desktop);
  });

  step("continues to the account once the codes are saved", async () => {
    const proceed = page.getByRole("button", { name: "Continue to your account" });
    await page.getByLabel("I have saved my recovery codes").check();
    await proceed.click();
    await page.waitForURL("**/profile");
    await expect.poll(() => page.getByTestId("second-factor-status").textContent()).toContain("On");
    await expect.poll(() => page.getByTestId("security-events").textContent()).toContain("Two-factor turned on");
    await expect
      .poll(() => page.getByTestId("recovery-codes-left").textContent())
      .toBe("10 of 10 recovery codes left.");
    await snap(page, "04-profile");
  });

  step("signs out", async () => {
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL("**/login");
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await snap(page, "05-login");
  });

  step("signs in with a code pasted with a space", async () => {
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/login/2fa");
    const input = page.getByLabel("Authentication code");
    expect(await input.getAttribute("autocomplete")).toBe("one-time-code");
    expect(await input.getAttribute("inputmode")).toBe("numeric");
    expect(await input.getAttribute("pattern")).toBe("[0-9]*");
    await snap(page, "06-login-two-factor");
    const code = await codes.next();
    await input.fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    expect(await input.inputValue()).toBe(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/profile");
    await expect.poll(() => page.getByTestId("profile-username").textContent()).toBe(account.username);
  });

  step("signs in from a second browser with a recovery code", async () => {
    const { browser, server, problems } = suite();
    second = await newWatchedContext(browser, server.baseURL, problems);
    other = await second.newPage();
    await other.goto("/login");
    // By username: only a verified address signs in (SPEC "Email"), and this one was never verified.
    await other.getByLabel("Username or email").fill(account.username);
    await other.getByLabel("Password", { exact: true }).fill(account.password);
    await other.getByRole("button", { name: "Sign in", exact: true }).click();
    await other.waitForURL("**/login/2fa");
    await other.getByRole("button", { name: "Use a recovery code instead" }).click();
    await other.getByLabel("Recovery code").fill(recoveryCodes[0] ?? "");
    await snap(other, "07-login-recovery-code");
    await other.getByRole("button", { name: "Verify" }).click();
    await other.waitForURL("**/profile");
    await expect.poll(() => other.getByTestId("security-events").textContent()).toContain("Recovery code used");
    // The profile counts what is left of the set.
    await expect
      .poll(() => other.getByTestId("recovery-codes-left").textContent())
      .toBe("9 of 10 recovery codes left.");
  });

  step("revokes the other session, which is then signed out", async () => {
    const sessions = other.getByTestId("sessions").locator("li");
    await expect.poll(() => sessions.count()).toBe(2);
    expect(await other.locator('[data-testid="sessions"] li[data-current="true"]').textContent()).toContain(
      "This device",
    );
    await other
      .locator('[data-testid="sessions"] li[data-current="false"]')
      .getByRole("button", { name: /Revoke/ })
      .click();
    await expect.poll(() => sessions.count()).toBe(1);
    await snap(other, "08-profile-sessions");
    // The first browser's refresh token is dead now: a reload lands on the login page.
    await page.reload();
    await page.waitForURL(/\/login\?redirect=/);
  });

  step("disables 2FA with the password and a recovery code", async () => {
    await other.getByRole("link", { name: "Turn off" }).click();
    await other.waitForURL("**/2fa/disable");
    await other.getByLabel("Current password").fill(account.password);
    await other.getByRole("button", { name: "Use a recovery code instead" }).click();
    await other.getByLabel("Recovery code").fill(recoveryCodes[1] ?? "");
    await snap(other, "09-disable-two-factor");
    await other.getByRole("button", { name: "Turn off two-factor" }).click();
    await other.waitForURL("**/profile");
    await expect.poll(() => other.getByTestId("second-factor-status").textContent()).toContain("Off");
  });

  step("deletes the account, after which its password no longer works", async () => {
    await other.getByRole("button", { name: "Delete my account…" }).click();
    await other.getByLabel("Password to confirm").fill(account.password);
    await snap(other, "10-delete-account");
    await other.getByRole("button", { name: "Delete my account permanently" }).click();
    await other.waitForURL("**/login");
    await other.getByText("Your account and everything in it has been deleted.").waitFor();
    await other.getByLabel("Username or email").fill(account.username);
    await other.getByLabel("Password", { exact: true }).fill(account.password);
    await other.getByRole("button", { name: "Sign in", exact: true }).click();
    await other.getByRole("alert").filter({ hasText: "The username or password is incorrect." }).waitFor();
    await snap(other, "11-login-failed");
  });

  expectNoPageProblems(suite);
});
