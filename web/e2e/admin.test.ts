/**
 * The administration journey: an admin made with the CLI is taken into two-factor setup at the first sign-in
 * (administrators always need it), then searches users, locks, unlocks and resets one, opens a user's page and
 * gives them a role, requires two-factor for that role on the policy page, reads and downloads the audit log;
 * the user, now covered by the policy without two-factor, is walked into enrolment after the password; another
 * enrols with a passkey instead (Chromium's virtual authenticator). Screens at 1280 and 375 px.
 */
import { describe, expect } from "vitest";
import type { CDPSession, Page } from "playwright-core";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { desktop, newWatchedContext, phone } from "./harness/browser";
import { alertsOf } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";
import { CodeSource } from "./harness/totp";

describe("administration", () => {
  // WebAuthn needs a domain for its RP ID (an IP address is refused): the browser uses localhost.
  const suite = useSuite({ publicHost: "localhost" });
  const step = stepper();
  const admin = newAccount("root");
  let member: TestAccount;
  let page: Page;

  async function signIn(target: Page, account: TestAccount): Promise<void> {
    await target.goto("/login");
    await target.getByLabel("Username or email").fill(account.username);
    await target.getByLabel("Password", { exact: true }).fill(account.password);
    await target.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  async function enrol(target: Page): Promise<void> {
    await target.getByRole("link", { name: "Set up an authenticator app" }).click();
    await target.waitForURL("**/2fa/enable");
    const codes = new CodeSource((await target.getByTestId("totp-secret").textContent()) ?? "");
    await target.getByLabel("6-digit code").fill(await codes.next());
    await target.getByRole("button", { name: "Turn on two-factor" }).click();
    await target.getByLabel("I have saved my recovery codes").check();
    await target.getByRole("button", { name: "Continue to your account" }).click();
    await target.waitForURL("**/profile");
  }

  step("an admin created with the CLI is taken into two-factor setup after the password", async () => {
    const { browser, server, problems } = suite();
    const created = await server.cli(["user", "create-admin", admin.username], {
      TESSERA_ADMIN_PASSWORD: admin.password,
    });
    expect(created.code, `tessera user create-admin failed:\n${created.output}`).toBe(0);
    expect(created.output).toMatch(/next step: sign in .* turn on two-factor/);
    member = await createAccount(server.baseURL, newAccount("member"), true);
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await signIn(page, admin);
    await page.waitForURL("**/enroll");
    const screen = page.getByTestId("forced-enrollment");
    expect(await screen.textContent()).toContain("administrators must always sign in with two-factor authentication");
    // Held in enrolment: the admin area (or any page) leads back here.
    await page.goto("/admin");
    await page.waitForURL("**/enroll");
    expect(await alertsOf(page)).toEqual([]);
    await snap(page, "21-forced-enrollment-admin");
    await enrol(page);
  });

  step("finds users by search and filters, with a total", async () => {
    await page.getByRole("link", { name: "Admin" }).click();
    await page.waitForURL("**/admin");
    const row = page.getByTestId("admin-users").getByRole("row").filter({ hasText: member.username });
    await row.waitFor();
    await page.getByLabel("Search").fill(member.username.slice(0, 10));
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => page.getByTestId("admin-users-total").textContent()).toBe("1 accounts");
    await page.getByLabel("Two-factor").selectOption("off");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("No account matches.").waitFor();
    await page.getByLabel("Two-factor").selectOption("");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await row.waitFor();
    await snap(page, "22-admin-users");
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

  step("locks and unlocks a user, and resets their two-factor, each after a confirmation", async () => {
    const row = page.getByTestId("admin-users").getByRole("row").filter({ hasText: member.username });
    await row.getByRole("button", { name: /^Lock/ }).click();
    await page.getByText(`Locked ${member.username}.`).waitFor();
    await expect.poll(() => row.textContent()).toContain("Locked");
    await row.getByRole("button", { name: /^Unlock/ }).click();
    await page.getByText(`Unlocked ${member.username}.`).waitFor();
    await expect.poll(() => row.textContent()).toContain("Active");
    await row.getByRole("button", { name: /^Reset two-factor/ }).click();
    await page.getByText(`Two-factor was reset for ${member.username}.`).waitFor();
    await expect.poll(() => row.getByRole("button", { name: /^Reset two-factor/ }).count()).toBe(0);
  });

  step("opens a user's page and gives them the role ops", async () => {
    await page.getByRole("link", { name: member.username }).click();
    await page.waitForURL("**/admin/users/**");
    await page.getByRole("heading", { name: "Recent events" }).waitFor();
    expect(await page.getByTestId("admin-user-status").textContent()).toBe("Active");
    await page.getByLabel(/^Roles, separated by commas/).fill("ops");
    await page.getByRole("button", { name: "Save roles" }).click();
    await page.getByText(`Roles of ${member.username} saved.`).waitFor();
    await snap(page, "23-admin-user");
  });

  step("requires two-factor for the role ops, seeing first how many accounts it affects", async () => {
    await page.getByRole("link", { name: "Two-factor policy" }).click();
    await page.waitForURL("**/admin/policy");
    await page.getByLabel(/People with certain roles/).check();
    await page.getByLabel("Roles, separated by commas").fill("ops");
    await expect
      .poll(() => page.getByTestId("policy-impact").textContent())
      .toMatch(/covers 2 account\(s\); 1 of them do not have two-factor yet/);
    await snap(page, "24-admin-policy");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Policy saved.").waitFor();
  });

  step("reads the audit log filtered by user, and downloads it as CSV", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL("**/admin/audit");
    await page.getByLabel("User").fill(member.username);
    await page.getByRole("button", { name: "Filter" }).click();
    const table = page.getByTestId("admin-audit");
    await expect.poll(() => table.textContent()).toContain("Roles changed");
    expect(await table.textContent()).toContain(admin.username);
    await snap(page, "25-admin-audit");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^tessera-audit-\d{4}-\d\d-\d\d\.csv$/);
  });

  step("walks the user the policy now covers into enrolment after the password, at 1280 and 375 px", async () => {
    const { browser, server, problems } = suite();
    const other = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    other.on("dialog", (dialog) => void dialog.accept());
    await signIn(other, member);
    await other.waitForURL("**/enroll");
    expect(await other.getByTestId("forced-enrollment").textContent()).toContain(
      "Your organisation requires two-factor authentication for your account.",
    );
    await other.goto("/profile");
    await other.waitForURL("**/enroll");
    await snap(other, "26-forced-enrollment");
    await enrol(other);
    await other.getByRole("heading", { name: "Your account" }).waitFor();
  });

  step("lets a covered user enrol with a passkey instead: recovery codes once, then the account", async () => {
    const { browser, server, problems } = suite();
    const holder = await createAccount(server.baseURL, newAccount("keyholder"), false);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.waitForURL("**/admin");
    await page.getByRole("link", { name: holder.username }).click();
    await page.waitForURL("**/admin/users/**");
    await page.getByLabel(/^Roles, separated by commas/).fill("ops");
    await page.getByRole("button", { name: "Save roles" }).click();
    await page.getByText(`Roles of ${holder.username} saved.`).waitFor();

    const other = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    other.on("dialog", (dialog) => void dialog.accept());
    const cdp: CDPSession = await other.context().newCDPSession(other);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await signIn(other, holder);
    await other.waitForURL("**/enroll");
    const screen = other.getByTestId("forced-enrollment");
    await screen.getByRole("button", { name: "Use a passkey" }).waitFor();
    await snap(other, "27-forced-enrollment-choices");
    await screen.getByRole("button", { name: "Use a passkey" }).click();
    await screen.getByText("Two-factor authentication is on").waitFor();
    expect(await screen.getByTestId("recovery-codes").count()).toBe(1);
    expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials).toHaveLength(1);
    const next = screen.getByRole("button", { name: "Continue to your account" });
    expect(await next.isDisabled()).toBe(true);
    await snap(other, "28-forced-enrollment-passkey-codes");
    await screen.getByLabel("I have saved my recovery codes").check();
    await next.click();
    await other.waitForURL("**/profile");
    await other.getByRole("heading", { name: "Your account" }).waitFor();
    const passkeys = other.getByRole("region", { name: "Passkeys" }).getByTestId("passkeys").getByRole("listitem");
    await expect.poll(() => passkeys.count()).toBe(1);
    // No longer held in enrolment: after a reload (the session from its cookie) the profile stays.
    await other.reload();
    await other.getByRole("heading", { name: "Your account" }).waitFor();
    expect(other.url()).toMatch(/\/profile$/);
    expect(await alertsOf(other)).toEqual([]);
  });

  expectNoPageProblems(suite);
});
