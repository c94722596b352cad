/** Error codes that belong to the code field of a form rather than to the whole form. */
export function isCodeError(code: string | null): boolean {
  return code === "invalid_otp" || code === "otp_replayed";
}
