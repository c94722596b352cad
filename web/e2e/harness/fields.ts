import type { Locator, Page } from "playwright-core";

/**
 * The error a field shows, read the way assistive technology finds it: the field is aria-invalid and one of the
 * ids in its aria-describedby is the error. Null when the field is valid.
 */
export async function fieldError(page: Page, field: Locator): Promise<string | null> {
  if ((await field.getAttribute("aria-invalid")) !== "true") return null;
  const ids = (await field.getAttribute("aria-describedby"))?.split(" ") ?? [];
  const errorId = ids.find((id) => id.endsWith("-error"));
  if (errorId === undefined) return "(aria-invalid, but no error described)";
  return ((await page.locator(`[id="${errorId}"]`).textContent()) ?? "").trim();
}

/** The text of every alert region on the page that says something. */
export async function alertsOf(page: Page): Promise<string[]> {
  return (await page.getByRole("alert").allTextContents()).map((text) => text.trim()).filter((text) => text !== "");
}
