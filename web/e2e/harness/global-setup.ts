import { missingPrerequisite } from "./paths";

/** Fails the whole run at once, with one clear line, when the server or UI build or Chromium is missing. */
export default function setup(): void {
  const problem = missingPrerequisite();
  if (problem !== null) throw new Error(`e2e prerequisites missing: ${problem}`);
}
