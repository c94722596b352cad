import type { RequestMeta } from "../../request-meta.js";
import type { AddressLinkService } from "../email/address-link.service.js";
import type { LoginResult, LoginService } from "./login.service.js";

/** Signing in with an emailed link: a first factor only, like a password. */
export interface MagicLinkService {
  /** Answers the same for every address; the lookup and the mail happen after the reply. */
  requestMagicLink(email: string, meta: RequestMeta, clientCookie?: string): Promise<void>;
  /** Tokens, or the same mfa_required challenge as a password login when two-factor is on. */
  loginWithMagicLink(token: string, meta: RequestMeta): Promise<LoginResult>;
}

export function createMagicLinkService(deps: {
  addressLinks: AddressLinkService;
  login: LoginService;
}): MagicLinkService {
  const { addressLinks, login } = deps;
  return {
    requestMagicLink: (email, meta, clientCookie) => addressLinks.request("magic_link", email, meta, clientCookie),

    async loginWithMagicLink(token, meta) {
      const user = await addressLinks.consume("magic_link", token);
      // A first factor only: with two-factor on this is a login challenge, never tokens. No device
      // cookie is honoured here, so a link read from someone's mailbox still needs the code.
      return login.completeFirstFactor(user, "email", meta);
    },
  };
}
