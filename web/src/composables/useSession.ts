import { storeToRefs } from "pinia";
import type { ComputedRef, Ref } from "vue";
import { useRouter, type RouteLocationRaw } from "vue-router";
import { isSecondFactorChallenge, type LoginReply, type User } from "../api/types";
import { useSessionStore, type PendingChallenge } from "../stores/session";

export interface UseSession {
  store: ReturnType<typeof useSessionStore>;
  user: Ref<User | null>;
  isAuthenticated: ComputedRef<boolean>;
  isAdmin: ComputedRef<boolean>;
  challenge: Ref<PendingChallenge | null>;
  afterLoginTarget(): RouteLocationRaw;
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

  /** Handles a password or magic-link login reply. */
  async function completeFirstFactor(reply: LoginReply, source: PendingChallenge["source"]): Promise<void> {
    if (isSecondFactorChallenge(reply)) {
      store.challenge = { ...reply, source };
      const redirect = router.currentRoute.value.query.redirect;
      await router.push({ name: "login-second-factor", query: typeof redirect === "string" ? { redirect } : {} });
      return;
    }
    store.acceptTokens(reply, reply.user);
    if (reply.user === undefined) await store.loadUser();
    await router.push(afterLoginTarget());
  }

  async function signOut(): Promise<void> {
    await store.logout();
    await router.push({ name: "login" });
  }

  return { store, user, isAuthenticated, isAdmin, challenge, afterLoginTarget, completeFirstFactor, signOut };
}
