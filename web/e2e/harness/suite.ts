import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { captureFailure, emptyProblems, launchBrowser, screenshot, type PageProblems } from "./browser";
import { startServer, type TesseraServer } from "./server";

export interface Suite {
  server: TesseraServer;
  browser: Browser;
  problems: PageProblems;
}

/**
 * One server and one browser per test file. Returns a getter because both exist only once
 * beforeAll has run. After all steps: no console errors, page errors or CSP violations.
 * `env`: settings of this file's server (e.g. a short REAUTH_MAX_AGE).
 */
export function useSuite(options: { env?: Record<string, string>; publicHost?: string } = {}): () => Suite {
  let suite: Suite | undefined;
  beforeAll(async () => {
    const server = await startServer(options.env, options.publicHost);
    try {
      suite = { server, browser: await launchBrowser(), problems: emptyProblems() };
    } catch (error) {
      await server.stop();
      throw error;
    }
  });
  afterAll(async () => {
    await suite?.browser.close();
    await suite?.server.stop();
  });
  return () => {
    if (suite === undefined) throw new Error("the e2e suite did not start (see the beforeAll error)");
    return suite;
  };
}

/** Steps that depend on each other: after one fails, the rest are skipped, not failed again. */
export function stepper(): (name: string, body: () => Promise<void>, timeout?: number) => void {
  let failed: string | null = null;
  return (name, body, timeout) => {
    it(
      name,
      async (context) => {
        if (failed !== null) context.skip(`skipped: the step "${failed}" failed`);
        try {
          await body();
        } catch (error) {
          failed = name;
          const pages = await captureFailure(name);
          if (error instanceof Error) error.message = `${error.message}\n${pages}`;
          throw error;
        }
      },
      timeout,
    );
  };
}

/** Screenshots a screen at both widths and checks it fits a 375 px phone. */
export async function snap(page: Page, name: string): Promise<void> {
  const overflows = await screenshot(page, name);
  expect(overflows, `${name} is wider than a 375 px screen`).toBe(false);
}

/** The final check of every file: the pages produced no errors and no CSP violations. */
export function expectNoPageProblems(get: () => Suite): void {
  it("produced no console errors, page errors or CSP violations", () => {
    const { problems, server } = get();
    expect(problems.cspViolations, "CSP violations").toEqual([]);
    expect(problems.pageErrors, "uncaught page errors").toEqual([]);
    expect(problems.consoleErrors, `console errors (server log tail:\n${server.output().slice(-2000)})`).toEqual([]);
  });
}
