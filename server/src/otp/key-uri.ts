import { encodeBase32 } from "./base32.js";
import type { TOTPParams } from "./totp.js";

export interface TOTPKeyURIOptions {
  /** Service name shown by the authenticator app, e.g. "Tessera". */
  issuer: string;
  /** The user's account, e.g. an email address. */
  accountName: string;
  secret: Uint8Array;
  params: TOTPParams;
}

/**
 * Builds an `otpauth://totp/…` URI in Google's Key Uri Format, for QR codes and manual entry:
 * `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
 * Throws a TypeError if the issuer or account name contains a colon.
 */
export function createTOTPKeyURI({ issuer, accountName, secret, params }: TOTPKeyURIOptions): string {
  // Key Uri Format: "Neither issuer nor account name may themselves contain a colon".
  if (issuer.includes(":") || accountName.includes(":")) {
    throw new TypeError("issuer and accountName must not contain ':'");
  }
  // encodeURIComponent gives %20 for spaces; URLSearchParams would give '+', which not every app decodes.
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  // Key Uri Format: set both the label prefix (older apps read only that) and the issuer parameter, equal.
  const query = [
    `secret=${encodeBase32(secret)}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${params.algorithm}`,
    `digits=${params.digits}`,
    `period=${params.periodInSeconds}`,
  ].join("&");
  return `otpauth://totp/${label}?${query}`;
}
