import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { chromiumPath, screenshotDir } from "./paths";

export const desktop = { width: 1280, height: 860 };
export const phone = { width: 375, height: 812 };

/** `extraArgs`: more Chromium switches (e.g. --host-resolver-rules to give test host names an address). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      ...extraArgs,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Console errors, uncaught exceptions and CSP violations seen by every page of a context. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  cspViolations: string[];
}

// Chromium logs every 4xx answer to fetch() as a console error. The UI expects several
// (a wrong code is 401 by contract), so those lines are not counted as problems; anything else is.
const expectedNetworkError = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** A fresh browser profile (own cookie jar) at desktop size, watched for problems. */
export async function newWatchedContext(
  browser: Browser,
  baseURL: string,
  problems: PageProblems,
): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: desktop, acceptDownloads: true });
  await context.exposeBinding("__reportCSPViolation", (_source, text: string) => {
    problems.cspViolations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __reportCSPViolation(text: string): void }).__reportCSPViolation;
      report(
        `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  context.on("page", (page) => watchPage(page, problems));
  return context;
}

/** Pages still open, for screenshots when a step fails. */
export const openPages = new Set<Page>();

function watchPage(page: Page, problems: PageProblems): void {
  openPages.add(page);
  page.on("close", () => openPages.delete(page));
  page.on("console", (message) => {
    const text = message.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) problems.cspViolations.push(text);
    else if (message.type() === "error" && !expectedNetworkError.test(text))
      problems.consoleErrors.push(`${page.url()}: ${text}`);
  });
  page.on("pageerror", (error) => problems.pageErrors.push(`${page.url()}: ${error.message}`));
}

export function emptyProblems(): PageProblems {
  return { consoleErrors: [], pageErrors: [], cspViolations: [] };
}

/** Screenshots every open page and returns what their alert regions say, to explain a failure. */
export async function captureFailure(name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const notes: string[] = [];
  let index = 0;
  for (const page of openPages) {
    index += 1;
    const file = join(screenshotDir, `FAILED-${name.replace(/[^a-z0-9]+/gi, "-")}-${index}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    const alerts = await page
      .locator("[role=alert]")
      .allTextContents()
      .catch(() => []);
    const said = JSON.stringify(alerts.filter((text) => text.trim() !== ""));
    notes.push(`page ${index} at ${page.url()} (screenshot ${file}); alerts: ${said}`);
  }
  return notes.join("\n");
}

/**
 * Saves `<name>-desktop.png`, `<name>-375.png` and `<name>-375-dark.png` under e2e/screenshots/, then restores desktop
 * size. Resolves true when the page is wider than a 375 px phone screen (content cut off).
 */
export async function screenshot(page: Page, name: string): Promise<boolean> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.setViewportSize(desktop);
  await page.screenshot({ path: join(screenshotDir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(phone);
  const overflows = await page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
  );
  await page.screenshot({ path: join(screenshotDir, `${name}-375.png`), fullPage: true });
  // The dark theme (prefers-color-scheme) at phone width, too.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(screenshotDir, `${name}-375-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(desktop);
  return overflows;
}
