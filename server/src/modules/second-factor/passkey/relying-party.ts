/**
 * Who the passkeys belong to (SPEC "Passkeys"): the RP ID is PUBLIC_URL's host, the allowed origins PUBLIC_URL's
 * plus WEBAUTHN_ORIGINS.
 */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(config: {
  publicUrl: string;
  webauthnOrigins: string[];
  totpIssuer: string;
}): RelyingParty {
  const publicUrl = new URL(config.publicUrl);
  const origins = [publicUrl.origin, ...config.webauthnOrigins.filter((origin) => origin !== publicUrl.origin)];
  return { id: publicUrl.hostname, name: config.totpIssuer, origins };
}
