/**
 * The journey forward-auth exists for: a browser opens a site behind a real nginx (`auth_request` to
 * Tessera, the README's snippet), is sent to Tessera's login screen, signs in with password and code, and
 * lands back on the page it asked for, whose application now sees the user. A return address outside
 * COOKIE_DOMAIN is never followed. Host names under tessera.test resolve to loopback inside Chromium.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { echoServer, hasNginx, protectedSiteConfig, startNginx, type Nginx } from "../../server/test/support/nginx";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { emptyProblems, launchBrowser, newWatchedContext, type PageProblems } from "./harness/browser";
import { startServer, type TesseraServer } from "./harness/server";
import { snap, stepper } from "./harness/suite";

const rules = `
default_policy: deny
rules:
  - host: app.tessera.test
    policy: two_factor
`;

describe.skipIf(!hasNginx)("forward-auth: a protected site sends the browser to sign in and back", () => {
  let server: TesseraServer;
  let nginx: Nginx;
  let app: { port: number; close(): Promise<void> };
  let browser: Browser;
  const problems: PageProblems = emptyProblems();
  let authOrigin = "";
  let siteOrigin = "";
  const step = stepper();

  beforeAll(async () => {
    const rulesPath = join(mkdtempSync(join(tmpdir(), "tessera-e2e-rules-")), "rules.yaml");
    writeFileSync(rulesPath, rules);
    server = await startServer((port) => ({
      PUBLIC_URL: `http://auth.tessera.test:${port}`,
      COOKIE_DOMAIN: "tessera.test",
      TRUST_PROXY: "127.0.0.1",
      FORWARD_AUTH_RULES: rulesPath,
    }));
    const tesseraPort = Number(new URL(server.baseURL).port);
    authOrigin = `http://auth.tessera.test:${tesseraPort}`;
    app = await echoServer();
    nginx = await startNginx((port) => protectedSiteConfig(tesseraPort, app.port, port));
    siteOrigin = `http://app.tessera.test:${nginx.port}`;
    browser = await launchBrowser(["--host-resolver-rules=MAP *.tessera.test 127.0.0.1"]);
  });
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await app?.close();
    await server?.stop();
  });

  async function signIn(page: Page, account: TestAccount): Promise<void> {
    await page.getByLabel("Username or email").fill(account.username);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  step("an anonymous visit goes to the login screen and, after password and code, back to the page", async () => {
    const account = await createAccount(server.baseURL, newAccount("site"), true);
    const page = await (await newWatchedContext(browser, authOrigin, problems)).newPage();
    const wanted = `${siteOrigin}/notes?id=7`;
    await page.goto(wanted);
    await page.waitForURL(`${authOrigin}/login?rd=${encodeURIComponent(wanted)}`);
    await page.getByText(`Sign in to continue to app.tessera.test:${nginx.port}.`).waitFor();
    await snap(page, "40-forward-auth-login");
    await signIn(page, account);
    await page.waitForURL(`${authOrigin}/login/2fa?**`);
    if (account.codes === undefined) throw new Error("no second factor");
    await page.getByLabel("Authentication code").fill(await account.codes.next());
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(wanted);
    const seen = JSON.parse((await page.locator("body").textContent()) ?? "{}") as {
      headers: Record<string, string>;
    };
    expect(seen.headers["remote-user"]).toBe(account.username);
    expect(seen.headers["remote-aal"]).toBe("2");
    // The same browser reaches another page of the site without signing in again.
    await page.goto(`${siteOrigin}/other`);
    expect(page.url()).toBe(`${siteOrigin}/other`);
  });

  step("a return address outside COOKIE_DOMAIN is not followed: the browser stays at Tessera", async () => {
    const account = await createAccount(server.baseURL, newAccount("stay"), false);
    const page = await (await newWatchedContext(browser, authOrigin, problems)).newPage();
    await page.goto(`${authOrigin}/login?rd=${encodeURIComponent("https://evil.example/")}`);
    await page.getByText("Welcome back to Tessera.").waitFor();
    expect(await page.getByText("evil.example").count()).toBe(0);
    await signIn(page, account);
    await page.waitForURL(`${authOrigin}/profile`);
  });

  it("produced no page errors or CSP violations", () => {
    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    // Plain http on a name other than localhost: Chromium notes that it ignores the COOP header, which it
    // applies over HTTPS (as behind the operator's proxy). Anything else logged is a problem.
    const coopOverHttp =
      "Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy";
    expect(problems.consoleErrors.filter((line) => !line.includes(coopOverHttp))).toEqual([]);
  });
});
