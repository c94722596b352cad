import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import * as clients from "./oidc-client.repository.js";
import { deleteByClientId } from "./oidc-payload.repository.js";

/** What an administrator sees of an application: never its secret, which only its hash stands for. */
export interface OidcClientView {
  client_id: string;
  name: string;
  public: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  first_party: boolean;
  require_2fa: boolean;
  created_at: string;
}

export interface NewOidcClient {
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  /** A public client (a single-page or native app) has no secret and proves itself by PKCE alone. */
  public?: boolean;
  require_2fa?: boolean;
  /** A first-party application skips the consent screen. */
  first_party?: boolean;
}

export interface OidcClientService {
  /** Registers an application; its secret (confidential clients only) is in this reply and nowhere else. */
  create(
    input: NewOidcClient,
    meta: RequestMeta,
    actorId?: string | null,
  ): Promise<{ client: OidcClientView; client_secret?: string }>;
  list(): Promise<OidcClientView[]>;
  find(clientId: string): Promise<clients.OidcClientRow | undefined>;
  /** Removes an application and every grant, code and token it holds; not_found when there is none. */
  remove(clientId: string, meta: RequestMeta, actorId?: string | null): Promise<void>;
}

const maxRedirectUris = 20;

/** Exact, absolute http(s) URLs without a fragment (RFC 6749 §3.1.2), as typed: they are matched byte for byte. */
function checkRedirectUris(uris: string[], field: string): string[] {
  if (uris.length > maxRedirectUris) throw new AppError("validation_failed", `At most ${maxRedirectUris} ${field}.`);
  for (const uri of uris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new AppError("validation_failed", `${field}: "${uri}" is not an absolute URL.`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new AppError("validation_failed", `${field}: "${uri}" must use https (or http).`);
    if (url.hash !== "" || uri.includes("#"))
      throw new AppError("validation_failed", `${field}: "${uri}" must not have a fragment.`);
    if (url.username !== "" || url.password !== "")
      throw new AppError("validation_failed", `${field}: "${uri}" must not carry credentials.`);
  }
  return [...new Set(uris)];
}

export function viewOf(row: clients.OidcClientRow): OidcClientView {
  return {
    client_id: row.client_id,
    name: row.name,
    public: row.secret_hash === null,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    first_party: row.first_party === 1,
    require_2fa: row.require_2fa === 1,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export function createOidcClientService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}): OidcClientService {
  const { db, clock, audit } = deps;
  return {
    async create(input, meta, actorId = null) {
      const name = input.name.trim();
      if (name.length === 0 || name.length > 128)
        throw new AppError("validation_failed", "name must be 1 to 128 characters.");
      const redirectUris = checkRedirectUris(input.redirect_uris, "redirect_uris");
      if (redirectUris.length === 0) throw new AppError("validation_failed", "At least one redirect URI is needed.");
      const postLogout = checkRedirectUris(input.post_logout_redirect_uris ?? [], "post_logout_redirect_uris");
      const secret = input.public === true ? undefined : randomToken(256);
      const row: clients.OidcClientRow = {
        client_id: randomToken(128),
        name,
        secret_hash: secret === undefined ? null : hashSecret(secret),
        redirect_uris: JSON.stringify(redirectUris),
        post_logout_redirect_uris: JSON.stringify(postLogout),
        first_party: input.first_party === true ? 1 : 0,
        require_2fa: input.require_2fa === true ? 1 : 0,
        created_at: clock.now(),
      };
      await db.transaction().execute(async (trx) => {
        await clients.insertClient(trx, row);
        await audit.record(
          { type: "oidc_client_created", userId: actorId, meta, detail: { client_id: row.client_id } },
          trx,
        );
      });
      return { client: viewOf(row), ...(secret === undefined ? {} : { client_secret: secret }) };
    },

    async list() {
      return (await clients.listClients(db)).map(viewOf);
    },

    find(clientId) {
      return clients.findClient(db, clientId);
    },

    async remove(clientId, meta, actorId = null) {
      await db.transaction().execute(async (trx) => {
        if (!(await clients.deleteClient(trx, clientId)))
          throw new AppError("not_found", "No application has this client_id.");
        await deleteByClientId(trx, clientId);
        await audit.record(
          { type: "oidc_client_removed", userId: actorId, meta, detail: { client_id: clientId } },
          trx,
        );
      });
    },
  };
}
