import type { Services } from "../services.js";
import { formatTable } from "./table.js";

const cliMeta = { ip: null, userAgent: "tessera-cli" };

/** The values of a repeatable string option. */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** `tessera oidc clients list|add|remove`: the applications that sign in through Tessera (README "OpenID Connect"). */
export async function runOidcClients(
  services: Services,
  publicUrl: string,
  arg: string | undefined,
  arg2: string | undefined,
  values: Record<string, unknown>,
  usage: string,
): Promise<number> {
  if (arg === "list") {
    const cells = (await services.oidcClients.list()).map((c) => [
      c.client_id,
      c.name,
      c.public ? "public" : "confidential",
      [c.first_party ? "first-party" : "", c.require_2fa ? "require-2fa" : ""].filter(Boolean).join(",") || "-",
      c.redirect_uris.join(" "),
    ]);
    console.log(formatTable(["CLIENT ID", "NAME", "TYPE", "FLAGS", "REDIRECT URIS"], cells));
    return 0;
  }
  if (arg === "add" && arg2 !== undefined) {
    const { client, client_secret: secret } = await services.oidcClients.create(
      {
        name: arg2,
        redirect_uris: strings(values["redirect-uri"]),
        post_logout_redirect_uris: strings(values["post-logout-redirect-uri"]),
        public: values.public === true,
        first_party: values["first-party"] === true,
        require_2fa: values["require-2fa"] === true,
      },
      cliMeta,
    );
    console.log(`client_id:     ${client.client_id}`);
    if (secret !== undefined) console.log(`client_secret: ${secret}   (shown once: store it in the application now)`);
    console.log(`discovery:     ${publicUrl}/.well-known/openid-configuration`);
    return 0;
  }
  if (arg === "remove" && arg2 !== undefined) {
    await services.oidcClients.remove(arg2, cliMeta);
    console.log(`removed ${arg2}`);
    return 0;
  }
  console.error(usage);
  return 1;
}
