import type { RequestMeta } from "../../request-meta.js";
import type { AuthContext, SessionService, TokenPair } from "../session/session.service.js";
import type { ReauthProof } from "./second-factor.js";
import type { SecondFactorService } from "./second-factor.service.js";

/**
 * Re-authentication (SPEC "Re-authentication"): a signed-in person proves it is them again, and their
 * session's `auth_time` becomes now, which opens the sensitive actions for REAUTH_MAX_AGE seconds.
 *
 * What may be proven is `ReauthProof` (second-factor.ts), checked by SecondFactorService.reauthenticate;
 * what is renewed is the session (SessionService.renewAuthTime). Neither raises the session: an aal-1
 * session stays aal 1 whatever the proof, only a login opens an aal-2 one.
 */
export interface ReauthService {
  /**
   * Checks `proof` for the signed-in user (a wrong password counts against the per-account allowance of
   * password re-checks; a wrong code against the second-factor lockout), then answers fresh tokens for
   * the same session: same `sid`, `aal` and `amr`, a new `auth_time`, the refresh token rotated.
   */
  reauthenticate(auth: AuthContext, proof: ReauthProof, meta: RequestMeta): Promise<TokenPair>;
}

export function createReauthService(deps: {
  secondFactor: SecondFactorService;
  sessions: SessionService;
}): ReauthService {
  const { secondFactor, sessions } = deps;
  return {
    async reauthenticate(auth, proof, meta) {
      await secondFactor.reauthenticate(auth.userId, proof, meta);
      return sessions.renewAuthTime(auth, meta);
    },
  };
}
