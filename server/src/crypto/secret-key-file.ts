import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseSecretKeys, type SecretKey } from "./encryption.js";

/**
 * The keys that encrypt secrets at rest: TESSERA_SECRET_KEY when given, else DATA_DIR/secret.key,
 * generated on first start with mode 0600. The key itself is never logged.
 */
export function loadSecretKeys(secretKey: string | null, dataDir: string): { keys: SecretKey[]; generated: boolean } {
  if (secretKey !== null) return { keys: parseSecretKeys(secretKey), generated: false };
  const path = join(dataDir, "secret.key");
  if (existsSync(path)) return { keys: parseSecretKeys(readFileSync(path, "utf8").trim()), generated: false };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return { keys: parseSecretKeys(readFileSync(path, "utf8").trim()), generated: true };
}
