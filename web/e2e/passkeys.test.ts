/**
 * Passkeys in a real browser (SPEC "Passkeys"): Chromium's virtual authenticator (CDP WebAuthn: CTAP2, internal,
 * resident keys, user verification) stands in for a phone or laptop. Add a passkey on the profile (the first second
 * factor, so recovery codes come with it), sign out and back in with the passkey alone, sign in with the password and
 * the passkey as the second step, rename it, see a refusal in words, and remove it after confirming with the passkey
 * in the re-authentication dialog (REAUTH_MAX_AGE is short here).
 */
import { describe, expect } from "vitest";
import type { CDPSession, Page } from "playwright-core";
import { createAccount, newAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { alertsOf } from "./harness/fields";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";

const reauthMaxAgeSeconds = 8;

describe("passkeys", () => {
  // WebAuthn needs a domain for its RP ID (an IP address is refused): the browser uses localhost.
  const suite = useSuite({ env: { REAUTH_MAX_AGE: String(reauthMaxAgeSeconds) }, publicHost: "localhost" });
  const step = stepper();
  const account = newAccount("passkey");
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  const section = () => page.getByRole("region", { name: "Passkeys" });
  const presence = (on: boolean) =>
    cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: on });
  const signOut = async (): Promise<void> => {
    await page.getByRole("button", { name: /^Sign out/ }).click();
    await page.waitForURL("**/login");
  };

  step("signs in with a password, with a virtual authenticator in the browser", async () => {
    const { browser, server, problems } = suite();
    await createAccount(server.baseURL, account, false);
    page = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const added = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    authenticatorId = added.authenticatorId;
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/profile");
  });

  step("adds a named passkey: two-factor turns on and the recovery codes are shown once", async () => {
    await section().getByRole("button", { name: "Add a passkey" }).click();
    await section().getByLabel("Name for this passkey").fill("Laptop");
    await snap(page, "60-passkey-add");
    await section().getByRole("button", { name: "Create passkey" }).click();
    await section().getByText("Two-factor is now on").waitFor();
    expect(await section().getByTestId("recovery-codes").count()).toBe(1);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    await section().getByRole("button", { name: "I have saved them" }).click();
    const item = section().getByTestId("passkeys").getByRole("listitem");
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toMatch(/Laptop.*last used Never/s);
    await snap(page, "61-passkeys-profile");
  });

  step("conditional UI: signed out, the login page offers the passkey by itself and signs in with it", async () => {
    // The virtual authenticator answers the login page's autofill request (conditional mediation) at once.
    await page.getByRole("button", { name: /^Sign out/ }).click();
    await page.waitForURL("**/profile");
    const item = section().getByTestId("passkeys").getByRole("listitem");
    await expect.poll(() => item.textContent()).not.toMatch(/last used Never/);
  });

  step("signs in with the passkey alone through the button", async () => {
    // No touch while the login page loads: its autofill request waits, as it does until a person picks a passkey.
    await presence(false);
    await signOut();
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
    await snap(page, "62-login-with-passkey");
    await presence(true);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL("**/profile");
  });

  step("signs in with the password, then the passkey as the second step", async () => {
    await presence(false);
    await signOut();
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/login/2fa**");
    await presence(true);
    await page.getByRole("button", { name: "Use a passkey" }).waitFor();
    await snap(page, "63-second-step-passkey");
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.waitForURL("**/profile");
  });

  step("renames the passkey", async () => {
    await section().getByRole("button", { name: "Rename passkey Laptop" }).click();
    await section().getByLabel("New name").fill("Work laptop");
    await section().getByRole("button", { name: "Save" }).click();
    await section().getByText('Renamed the passkey to "Work laptop".').waitFor();
    expect(await section().getByTestId("passkeys").textContent()).toContain("Work laptop");
  });

  step("says so in words when the authenticator cannot verify the person", async () => {
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    await signOut();
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect
      .poll(() => alertsOf(page))
      .toContain("The passkey request was cancelled or timed out. Try again when you are ready.");
    expect(page.url()).toMatch(/\/login/);
    await snap(page, "64-login-passkey-refused");
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL("**/profile");
  });

  step("uses the passkey where a code is asked: new recovery codes, a new password", async () => {
    const recovery = page.getByRole("region", { name: "Recovery codes" });
    await recovery.getByRole("button", { name: "Create new recovery codes" }).click();
    await recovery.getByLabel("Current password").fill(account.password);
    await snap(page, "66-recovery-codes-passkey-choice");
    await recovery.getByRole("button", { name: "Confirm with a passkey instead of a code" }).click();
    await recovery.getByText("New recovery codes created.").waitFor();
    expect(await recovery.getByTestId("recovery-codes").count()).toBe(1);
    await recovery.getByRole("button", { name: "I have saved them" }).click();

    const password = page.getByRole("region", { name: "Change password" });
    const newPassword = `${account.password}-renewed`;
    await password.getByLabel("Current password").fill(account.password);
    await password.getByLabel("New password").fill(newPassword);
    await password.getByRole("button", { name: "Confirm with a passkey instead of a code" }).click();
    await password.getByText("Password changed.").waitFor();
    account.password = newPassword;
    expect(await alertsOf(page)).toEqual([]);
  });

  step("removes the last passkey after confirming with it in the dialog; two-factor turns off", async () => {
    await page.waitForTimeout((reauthMaxAgeSeconds + 1.5) * 1000);
    page.once("dialog", (dialog) => void dialog.accept());
    await section().getByRole("button", { name: "Remove passkey Work laptop" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByLabel("Your password").fill(account.password);
    await dialog.getByRole("button", { name: "Confirm with a passkey instead of a code" }).click();
    await section().getByText("two-factor is now off").waitFor();
    expect(await section().getByText("You have no passkeys yet.").count()).toBe(1);
    await snap(page, "65-passkey-removed");
  });

  expectNoPageProblems(suite);
});
