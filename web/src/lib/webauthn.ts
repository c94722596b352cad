import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
  WebAuthnError,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/browser";
import { ApiError } from "../api/errors";

/**
 * The browser's side of passkeys (navigator.credentials, through @simplewebauthn/browser). A ceremony that produces
 * nothing (the person cancelled, the browser refused) becomes an ApiError with a code of its own, so forms show it
 * in words like any refusal (api/errors.ts).
 */

export const passkeysSupported = (): boolean => browserSupportsWebAuthn();

/** Whether the browser offers passkeys in the username field's autofill (conditional mediation). */
export const autofillSupported = (): Promise<boolean> => browserSupportsWebAuthnAutofill();

function browserError(caught: unknown): ApiError {
  const name = caught instanceof Error ? caught.name : "";
  const code = caught instanceof WebAuthnError ? caught.code : "";
  if (code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED" || name === "InvalidStateError")
    return new ApiError(0, "passkey_exists", String(caught));
  if (name === "NotAllowedError" || name === "AbortError" || code === "ERROR_CEREMONY_ABORTED")
    return new ApiError(0, "passkey_cancelled", String(caught));
  if (name === "NotSupportedError" || name === "SecurityError")
    return new ApiError(0, "passkey_unsupported", String(caught));
  return new ApiError(0, "passkey_failed", String(caught));
}

export async function createPasskey(
  options: PublicKeyCredentialCreationOptionsJSON,
): Promise<RegistrationResponseJSON> {
  if (!passkeysSupported()) throw new ApiError(0, "passkey_unsupported", "no WebAuthn");
  try {
    return await startRegistration({ optionsJSON: options });
  } catch (caught) {
    throw browserError(caught);
  }
}

/** An assertion for `options`; with `autofill`, waits for the person to pick a passkey in the username field. */
export async function usePasskey(
  options: PublicKeyCredentialRequestOptionsJSON,
  autofill = false,
): Promise<AuthenticationResponseJSON> {
  if (!passkeysSupported()) throw new ApiError(0, "passkey_unsupported", "no WebAuthn");
  try {
    return await startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill });
  } catch (caught) {
    throw browserError(caught);
  }
}

/** Ends a waiting autofill request (before a button starts another ceremony, or when the page goes). */
export function cancelPasskeyRequest(): void {
  WebAuthnAbortService.cancelCeremony();
}
