/**
 * Another application signs its users in through Tessera (OpenID Connect), with a stock relying party
 * (openid-client) and the real screens in Chromium: the application sends the browser to Tessera, the person
 * signs in with password and code, allows the application, and comes back with a code the application
 * exchanges; the ID token checks out against the JWKS. Then: refresh, logout, and the refusals a browser sees.
 */
import { createServer, type Server } from "node:http";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect } from "vitest";
import { createAccount, newAccount, type TestAccount } from "./harness/accounts";
import { newWatchedContext } from "./harness/browser";
import { freePort } from "./harness/server";
import { expectNoPageProblems, snap, stepper, useSuite } from "./harness/suite";

/** The application: a page at /callback and /bye that records what the browser brought. */
async function startApp(): Promise<{ origin: string; visits: URL[]; server: Server }> {
  const port = await freePort();
  const visits: URL[] = [];
  const server = createServer((req, res) => {
    visits.push(new URL(req.url ?? "/", `http://localhost:${port}`));
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>App</title><p>App</p>");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  // "localhost", not Tessera's 127.0.0.1: another site, as a real application is.
  return { origin: `http://localhost:${port}`, visits, server };
}

async function registerClient(
  cli: (args: string[]) => Promise<{ code: number | null; output: string }>,
  args: string[],
) {
  const run = await cli(["oidc", "clients", "add", ...args]);
  expect(run.code, run.output).toBe(0);
  return {
    client_id: /client_id: +(\S+)/.exec(run.output)?.[1] ?? "",
    client_secret: /client_secret: +(\S+)/.exec(run.output)?.[1] ?? "",
  };
}

async function signInOnTessera(page: Page, account: TestAccount): Promise<void> {
  await page.waitForURL("**/login?redirect=**");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password", { exact: true }).fill(account.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

describe("OpenID Connect sign-in for another application", () => {
  const suite = useSuite();
  const step = stepper();
  let app: Awaited<ReturnType<typeof startApp>>;
  let config: client.Configuration;
  let context: BrowserContext;
  let page: Page;
  let account: TestAccount;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  step("the application discovers Tessera and sends the browser to it; sign-in, code, consent, back", async () => {
    const { browser, server, problems } = suite();
    app = await startApp();
    const registered = await registerClient(server.cli, [
      "Demo app",
      "--redirect-uri",
      `${app.origin}/callback`,
      "--post-logout-redirect-uri",
      `${app.origin}/bye`,
    ]);
    config = await client.discovery(
      new URL(server.baseURL),
      registered.client_id,
      undefined,
      client.ClientSecretBasic(registered.client_secret),
      { execute: [client.allowInsecureRequests] },
    );
    account = await createAccount(server.baseURL, newAccount("rp"), true);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${app.origin}/callback`,
      scope: "openid profile offline_access",
      prompt: "consent",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
    });
    context = await newWatchedContext(browser, server.baseURL, problems);
    page = await context.newPage();
    await page.goto(url.href);
    await signInOnTessera(page, account);
    await page.waitForURL("**/login/2fa**");
    await page.getByLabel("Authentication code").fill(await account.codes!.next());
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Sign in to Demo app" }).waitFor();
    await page.getByRole("button", { name: "Allow" }).waitFor();
    expect(await page.locator("main").textContent()).toContain("Stay signed in when you are away");
    await snap(page, "oidc-consent");
    expect(app.visits).toEqual([]);
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(`${app.origin}/callback**`);

    tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
    });
    const jwks = createRemoteJWKSet(new URL(`${server.baseURL}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.id_token ?? "", jwks, {
      issuer: server.baseURL,
      audience: registered.client_id,
    });
    expect(payload["nonce"]).toBe(nonce);
    expect(payload["amr"]).toEqual(["pwd", "otp"]);
    expect(payload["acr"]).toBe("urn:tessera:aal2");
    expect(Math.abs(Number(payload["auth_time"]) - Date.now() / 1000)).toBeLessThan(120);
    const info = await client.fetchUserInfo(config, tokens.access_token, String(payload.sub));
    expect(info.preferred_username).toBe(account.username);
  });

  step("refresh gives new tokens; the application's logout signs the browser out of Tessera too", async () => {
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const end = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token ?? "",
      post_logout_redirect_uri: `${app.origin}/bye`,
    });
    await page.goto(end.href);
    await page.getByRole("heading", { name: "Sign out" }).waitFor();
    await snap(page, "oidc-logout");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${app.origin}/bye**`);
    await page.goto("/profile");
    await page.waitForURL("**/login?redirect=**");
  });

  step("a require_2fa application never gets a code from a person without two-factor", async () => {
    const { server } = suite();
    const strict = await registerClient(server.cli, [
      "Vault",
      "--require-2fa",
      "--redirect-uri",
      `${app.origin}/callback`,
    ]);
    const strictConfig = await client.discovery(
      new URL(server.baseURL),
      strict.client_id,
      undefined,
      client.ClientSecretBasic(strict.client_secret),
      { execute: [client.allowInsecureRequests] },
    );
    const plain = await createAccount(server.baseURL, newAccount("plain"), false);
    const before = app.visits.length;
    const url = client.buildAuthorizationUrl(strictConfig, {
      redirect_uri: `${app.origin}/callback`,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    await page.goto(url.href);
    await signInOnTessera(page, plain);
    await page.getByText("Vault requires two-factor authentication").waitFor();
    await snap(page, "oidc-second-factor-required");
    expect(app.visits.length).toBe(before);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.waitForURL(`${app.origin}/callback**`);
    const back = new URL(page.url());
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("code")).toBeNull();
  });

  step("an unregistered redirect URI stops on Tessera's error page", async () => {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: "http://localhost:1/stolen",
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    const response = await page.goto(url.href);
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).pathname).toBe("/oidc/auth");
    await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
    await snap(page, "oidc-bad-redirect");
    await context.close();
    await new Promise((resolve) => app.server.close(resolve));
  });

  step("an administrator registers an application on the Applications page and sees its secret once", async () => {
    const { browser, server, problems } = suite();
    const admin = await createAccount(server.baseURL, newAccount("boss"), true);
    const granted = await server.cli(["user", "grant-admin", admin.username]);
    expect(granted.code, granted.output).toBe(0);
    const adminPage = await (await newWatchedContext(browser, server.baseURL, problems)).newPage();
    adminPage.on("dialog", (dialog) => void dialog.accept());
    await adminPage.goto("/admin/applications");
    await signInOnTessera(adminPage, admin);
    await adminPage.waitForURL("**/login/2fa**");
    await adminPage.getByLabel("Authentication code").fill(await admin.codes!.next());
    await adminPage.getByRole("button", { name: "Verify" }).click();
    await adminPage.waitForURL("**/admin/applications");
    expect(await adminPage.getByTestId("discovery-url").textContent()).toBe(
      `${server.baseURL}/.well-known/openid-configuration`,
    );
    await adminPage.getByLabel("Name").fill("Gitea");
    await adminPage.getByLabel(/Redirect URIs/).fill("https://git.example.org/user/oauth2/tessera/callback");
    await adminPage.getByLabel("Require two-factor authentication").check();
    await adminPage.getByRole("button", { name: "Register" }).click();
    const secret = (await adminPage.getByTestId("created-client-secret").textContent()) ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(43);
    const row = adminPage.getByTestId("oidc-clients").getByRole("row").filter({ hasText: "Gitea" });
    expect(await row.textContent()).toContain("two-factor required");
    await snap(adminPage, "oidc-admin-applications");
    await adminPage.getByRole("button", { name: "Done" }).click();
    expect(await adminPage.locator("main").textContent()).not.toContain(secret);
    await adminPage.reload();
    await row.waitFor();
    expect(await adminPage.locator("main").textContent()).not.toContain(secret);
    await adminPage.getByRole("button", { name: "Remove Gitea" }).click();
    await expect.poll(() => row.count()).toBe(0);
  });

  expectNoPageProblems(suite);
});
