import { fileURLToPath } from "node:url";

/**
 * The server package's directory (`server/`). This file sits at the top of `src/` and compiles to the top of
 * `dist/`, and the bundled server (`dist/main.js`, scripts/bundle.mjs) sits there as well, so one level up is
 * the package in every way the server runs: from the sources under the tests, from tsc's output (the CLI), and
 * from the bundle (`npm start`).
 */
export const serverDir = new URL("../", import.meta.url);

/** A file of the server package, e.g. `workers/password-hash.mjs`. */
export const serverFile = (path: string): URL => new URL(path, serverDir);

/** The web UI's build, next to the server package. */
export const defaultWebDist = fileURLToPath(new URL("../web/dist", serverDir));
