import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { ref, type Ref } from "vue";
import { listPasskeys, reauthPasskeyOptions } from "../api/passkeys";
import { passkeysSupported, usePasskey } from "../lib/webauthn";

/**
 * A passkey in place of a code where a form asks "is it still you?" (the re-authentication dialog, changing the
 * password, deleting the account, turning two-factor off, new recovery codes): whether the account has one to
 * offer, and the assertion over a fresh challenge of POST /api/auth/passkeys/reauth/options.
 */
export function usePasskeyProof(): {
  /** Whether to offer the passkey: the browser can, and the account has one (after `refresh`). */
  available: Ref<boolean>;
  /** Looks the account's passkeys up again; `withSecondFactor` false (two-factor off) offers none. */
  refresh(withSecondFactor: boolean): Promise<void>;
  /** Asks the browser for an assertion; a cancelled or refused ceremony throws an ApiError with its own code. */
  prove(): Promise<AuthenticationResponseJSON>;
} {
  const available = ref(false);
  async function refresh(withSecondFactor: boolean): Promise<void> {
    available.value = false;
    if (!withSecondFactor || !passkeysSupported()) return;
    available.value = await listPasskeys().then(
      (list) => list.length > 0,
      () => false,
    );
  }
  return { available, refresh, prove: async () => usePasskey(await reauthPasskeyOptions()) };
}
