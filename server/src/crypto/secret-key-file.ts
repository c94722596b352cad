import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ensurePrivateDir, restrictToOwner } from "../file-modes.js";
import { parseSecretKeys, type SecretKey } from "./encryption.js";

/**
 * The keys that encrypt secrets at rest: TESSERA_SECRET_KEY when given, else DATA_DIR/secret.key,
 * generated on first start with mode 0600 (an existing file is narrowed to 0600 at every start). The key
 * itself is never logged.
 */
export function loadSecretKeys(secretKey: string | null, dataDir: string): { keys: SecretKey[]; generated: boolean } {
  if (secretKey !== null) return { keys: parseSecretKeys(secretKey), generated: false };
  const path = join(dataDir, "secret.key");
  if (existsSync(path)) {
    restrictToOwner(path);
    return { keys: parseSecretKeys(readFileSync(path, "utf8").trim()), generated: false };
  }
  ensurePrivateDir(dataDir);
  writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  restrictToOwner(path);
  return { keys: parseSecretKeys(readFileSync(path, "utf8").trim()), generated: true };
}
