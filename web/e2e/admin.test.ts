/**
 * The admin screen: an admin made with the CLI turns on 2FA (admins must have it), then lists
 * users, locks and unlocks one, resets its 2FA, and reads the audit log.
 */
import { describe, expect } from "vitest";
import type { Page } from "playwright-core";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { desktop, newWatchedContext, phone } from "./harness/browser";
import { alertsOf } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";
import { CodeSource } from "./harness/totp";

describe("administration", () => {
  const suite = useSuite();
  const step = stepper();
  const admin = newAccount("root");
  let member: TestAccount;
  let page: Page;

  step("an admin created with the CLI signs in, and the Admin page asks for two-factor first", async () => {
    const { browser, server, problems } = suite();
    const created = await server.cli(["user", "create-admin", admin.username], {
      TESSERA_ADMIN_PASSWORD: admin.password,
    });
    expect(created.code, `tessera user create-admin failed:\n${created.output}`).toBe(0);
    member = await createAccount(server.baseURL, newAccount("member"), true);
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(admin.username);
    await page.getByLabel("Password", { exact: true }).fill(admin.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/profile");
    await page.getByRole("link", { name: "Admin" }).click();
    await page.waitForURL("**/admin");
    const notice = page.getByTestId("admin-needs-second-factor");
    await notice.waitFor();
    expect(await notice.textContent()).toContain(
      "Two-factor authentication must be on for your own account before you can use administration.",
    );
    expect(await page.locator("main").textContent()).not.toMatch(/sign in again/i);
    expect(await alertsOf(page)).toEqual([]);
    // No empty lists that would read as "no users".
    expect(await page.locator("table").count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Users" }).count()).toBe(0);
    await snap(page, "21-admin-without-two-factor");
    await notice.getByRole("link", { name: "Turn on two-factor" }).click();
    await page.waitForURL("**/2fa/enable");
    const codes = new CodeSource((await page.getByTestId("totp-secret").textContent()) ?? "");
    await page.getByLabel("6-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Continue to your account" }).click();
    await page.waitForURL("**/profile");
  });

  step("lists users and the audit log", async () => {
    await page.getByRole("link", { name: "Admin" }).click();
    await page.waitForURL("**/admin");
    const row = page.getByTestId("admin-users").getByRole("row").filter({ hasText: member.username });
    await row.waitFor();
    await expect.poll(() => page.getByTestId("admin-audit").locator("tbody tr").count()).toBeGreaterThan(0);
    await snap(page, "22-admin");
  });

  step("fits the header on a phone: Sign out beside the brand, the links on one row", async () => {
    await page.setViewportSize(phone);
    const header = page.locator("header");
    const brand = await header.getByRole("link", { name: "Tessera" }).boundingBox();
    const signOut = await header.getByRole("button", { name: /Sign out/ }).boundingBox();
    const links = await Promise.all(
      (await header.getByRole("navigation").getByRole("link").all()).map((link) => link.boundingBox()),
    );
    await page.setViewportSize(desktop);
    if (brand === null || signOut === null) throw new Error("header not laid out");
    const middle = (box: { y: number; height: number }): number => box.y + box.height / 2;
    expect(Math.abs(middle(signOut) - middle(brand)), "Sign out sits on the brand's row").toBeLessThan(8);
    expect(signOut.x + signOut.width).toBeLessThanOrEqual(phone.width);
    expect(signOut.height, "Sign out on one line").toBeLessThan(44);
    expect(new Set(links.map((link) => Math.round(link?.y ?? -1))).size, "the links share one row").toBe(1);
  });

  step("locks and unlocks a user", async () => {
    const row = page.getByTestId("admin-users").getByRole("row").filter({ hasText: member.username });
    await row.getByRole("button", { name: /^Lock/ }).click();
    await page.getByText(`Locked ${member.username}.`).waitFor();
    await expect.poll(() => row.textContent()).toContain("Locked");
    await row.getByRole("button", { name: /^Unlock/ }).click();
    await page.getByText(`Unlocked ${member.username}.`).waitFor();
    await expect.poll(() => row.textContent()).toContain("Active");
  });

  step("resets a user's 2FA", async () => {
    const row = page.getByTestId("admin-users").getByRole("row").filter({ hasText: member.username });
    await row.getByRole("button", { name: /^Reset two-factor/ }).click();
    await page.getByText(`Two-factor was reset for ${member.username}.`).waitFor();
    await expect.poll(() => row.getByRole("button", { name: /^Reset two-factor/ }).count()).toBe(0);
  });

  expectNoPageProblems(suite);
});
