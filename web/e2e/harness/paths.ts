import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const webRoot = fileURLToPath(new URL("../..", import.meta.url));
export const webDist = fileURLToPath(new URL("../../dist", import.meta.url));
/** The server entry; TESSERA_SERVER_MAIN runs the suite against another build. */
export const serverMain =
  process.env.TESSERA_SERVER_MAIN ?? fileURLToPath(new URL("../../../server/dist/main.js", import.meta.url));
export const serverCli = fileURLToPath(new URL("../../../server/bin/tessera.mjs", import.meta.url));
export const screenshotDir = fileURLToPath(new URL("../screenshots", import.meta.url));
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the suite cannot run, or null when everything it needs is there. */
export function missingPrerequisite(): string | null {
  if (!existsSync(serverMain))
    return `The Tessera server is not built: ${serverMain} is missing. Run \`npm run build -w server\` first.`;
  if (!existsSync(`${webDist}/index.html`))
    return `The web UI is not built: ${webDist}/index.html is missing. Run \`npm run build -w web\` first.`;
  if (!existsSync(chromiumPath))
    return `Chromium is not installed at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH).`;
  return null;
}
