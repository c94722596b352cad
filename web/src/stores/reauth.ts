import { defineStore } from "pinia";
import { ref } from "vue";
import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { reauthenticate } from "../api/auth";
import type { TokenPair } from "../api/types";

/**
 * Re-authentication in place (SPEC §4 "Re-authenticate"): when an action answers `reauth_required`, the API client
 * asks here (through the session store) and waits; ReauthDialog.vue shows the question while `open` is true. The
 * action's own form stays as it was, and the call is replayed once the proof is accepted.
 */
export const useReauthStore = defineStore("reauth", () => {
  /** Whether the dialog is showing. */
  const open = ref(false);
  let settle: ((tokens: TokenPair | null) => void) | null = null;
  let asking: Promise<TokenPair | null> | null = null;

  function finish(tokens: TokenPair | null): void {
    open.value = false;
    const resolve = settle;
    settle = null;
    resolve?.(tokens);
  }

  /** Opens the dialog (once, however many calls wait) and resolves with new tokens, or null when declined. */
  function ask(): Promise<TokenPair | null> {
    asking ??= new Promise<TokenPair | null>((resolve) => {
      settle = resolve;
      open.value = true;
    }).finally(() => {
      asking = null;
    });
    return asking;
  }

  /** Sends the proof; on success the waiting calls go on. A refusal throws its ApiError for the dialog to show. */
  async function confirm(password: string, code?: string, webauthn?: AuthenticationResponseJSON): Promise<void> {
    finish(await reauthenticate(password, code, webauthn));
  }

  /** The person declined: the waiting calls fail with their `reauth_required` error. */
  function cancel(): void {
    finish(null);
  }

  return { open, ask, confirm, cancel };
});
