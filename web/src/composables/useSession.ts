import { storeToRefs } from "pinia";
import type { ComputedRef, Ref } from "vue";
import { useRouter, type RouteLocationRaw } from "vue-router";
import { checkReturnUrl } from "../api/forward-auth";
import { isSecondFactorChallenge, type LoginReply, type User } from "../api/types";
import { useSessionStore, type PendingChallenge } from "../stores/session";

export interface UseSession {
  store: ReturnType<typeof useSessionStore>;
  user: Ref<User | null>;
  isAuthenticated: ComputedRef<boolean>;
  isAdmin: ComputedRef<boolean>;
  challenge: Ref<PendingChallenge | null>;
  afterLoginTarget(): RouteLocationRaw;
  /** After the last login step: back to the protected site of `?rd=` (when the server allows it), else the app. */
  finishLogin(): Promise<void>;
  completeFirstFactor(reply: LoginReply, source: PendingChallenge["source"]): Promise<void>;
  signOut(): Promise<void>;
}

/**
 * What views need from the session: the store's state plus the navigation that follows a
 * login step (tokens → the app, a challenge → the two-factor screen).
 */
export function useSession(): UseSession {
  const store = useSessionStore();
  const router = useRouter();
  const { user, isAuthenticated, isAdmin, challenge } = storeToRefs(store);

  /** Where to go after signing in: the `redirect` query when it is a local path, else the profile. */
  function afterLoginTarget(): RouteLocationRaw {
    const redirect = router.currentRoute.value.query.redirect;
    return typeof redirect === "string" && redirect.startsWith("/") && !redirect.startsWith("//")
      ? redirect
      : "/profile";
  }

  /**
   * `?rd=`: the site behind forward-auth that sent the browser here. The server says whether it may be
   * returned to (a host under COOKIE_DOMAIN) and how it reads; only then does the browser leave the app.
   */
  async function finishLogin(): Promise<void> {
    const rd = router.currentRoute.value.query.rd;
    if (typeof rd === "string" && rd !== "") {
      const url = await checkReturnUrl(rd).catch(() => null);
      if (url !== null) {
        window.location.assign(url);
        return;
      }
    }
    await router.push(afterLoginTarget());
  }

  /** The query that follows the login from one step to the next. */
  function carriedQuery(): Record<string, string> {
    const { redirect, rd } = router.currentRoute.value.query;
    return {
      ...(typeof redirect === "string" ? { redirect } : {}),
      ...(typeof rd === "string" ? { rd } : {}),
    };
  }

  /** Handles a password or magic-link login reply. */
  async function completeFirstFactor(reply: LoginReply, source: PendingChallenge["source"]): Promise<void> {
    if (isSecondFactorChallenge(reply)) {
      store.challenge = { ...reply, source };
      await router.push({ name: "login-second-factor", query: carriedQuery() });
      return;
    }
    store.acceptTokens(reply, reply.user);
    if (reply.user === undefined) await store.loadUser();
    await finishLogin();
  }

  async function signOut(): Promise<void> {
    await store.logout();
    await router.push({ name: "login" });
  }

  return {
    store,
    user,
    isAuthenticated,
    isAdmin,
    challenge,
    afterLoginTarget,
    finishLogin,
    completeFirstFactor,
    signOut,
  };
}
