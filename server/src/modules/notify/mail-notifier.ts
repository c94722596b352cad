import type { Clock } from "../../clock.js";
import type { Mailer } from "./mailer.js";
import type { Notifier } from "./notifier.js";
import { noticeMail } from "./templates.js";

/** Notices go to the address on file, verified or not (SPEC §2); an account without one gets none. */
export function createMailNotifier(deps: { mailer: Mailer; clock: Clock }): Notifier {
  return {
    async notify(user, kind, meta, executor) {
      if (user.email === null) return;
      const content = noticeMail(kind, {
        username: user.username,
        at: new Date(deps.clock.now()),
        ip: meta.ip,
        userAgent: meta.userAgent,
      });
      await deps.mailer.send({ to: user.email, ...content }, executor);
    },
  };
}
