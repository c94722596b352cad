import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { logout as apiLogout, refreshTokens } from "../api/auth";
import { configureClient, hasSessionCookie } from "../api/client";
import { ApiError } from "../api/errors";
import { getMe } from "../api/user";
import type { SecondFactorChallenge, SecondFactorSetup, TokenPair, User } from "../api/types";
import { useReauthStore } from "./reauth";

/** Refresh this long before the access token runs out. */
export const refreshLeadInSeconds = 60;
/** After a network failure, try the refresh again this much later. */
export const retryAfterNetworkErrorInSeconds = 30;
const minimumDelayInSeconds = 5;

export interface PendingChallenge extends SecondFactorChallenge {
  /** Where the first factor came from, for the two-factor screen's wording. */
  source: "password" | "magic_link";
}

/**
 * The signed-in state. The access token lives here, in memory only: never in localStorage
 * (SPEC §2 Tokens). The refresh token stays in the server's httpOnly cookie.
 */
export const useSessionStore = defineStore("session", () => {
  const accessToken = ref<string | null>(null);
  const expiresAt = ref<number | null>(null);
  const user = ref<User | null>(null);
  const ready = ref(false);
  const challenge = ref<PendingChallenge | null>(null);
  const pendingSetup = ref<SecondFactorSetup | null>(null);
  /** A one-time message for the next page (e.g. "your account was deleted"). */
  const notice = ref<string | null>(null);
  /** The two-factor policy holds this session in enrolment (its tokens said so, or the server answered 403). */
  const enrollmentRequired = ref(false);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let refreshing: Promise<boolean> | null = null;
  let initializing: Promise<void> | null = null;

  const isAuthenticated = computed(() => accessToken.value !== null);
  const isAdmin = computed(() => user.value?.roles.includes("admin") === true);

  function cancelTimer(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function scheduleRefresh(delayInSeconds: number): void {
    cancelTimer();
    timer = setTimeout(() => void refresh(), Math.max(delayInSeconds, minimumDelayInSeconds) * 1000);
  }

  /** Takes a fresh token pair (login, refresh, two-factor confirmation) and plans the next refresh. */
  function acceptTokens(tokens: TokenPair, nextUser?: User): void {
    accessToken.value = tokens.access_token;
    expiresAt.value = Date.now() + tokens.expires_in * 1000;
    if (nextUser !== undefined) user.value = nextUser;
    enrollmentRequired.value = tokens.enrollment_required === true;
    challenge.value = null;
    const lead = tokens.expires_in > 2 * refreshLeadInSeconds ? refreshLeadInSeconds : tokens.expires_in / 2;
    scheduleRefresh(tokens.expires_in - lead);
  }

  /** Reads and forgets the one-time notice. */
  function takeNotice(): string | null {
    const message = notice.value;
    notice.value = null;
    return message;
  }

  function clear(): void {
    cancelTimer();
    accessToken.value = null;
    expiresAt.value = null;
    user.value = null;
    challenge.value = null;
    pendingSetup.value = null;
    enrollmentRequired.value = false;
  }

  async function rotate(): Promise<boolean> {
    try {
      acceptTokens(await refreshTokens());
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === "network_error" && accessToken.value !== null) {
        scheduleRefresh(retryAfterNetworkErrorInSeconds);
        return false;
      }
      clear();
      return false;
    }
  }

  /** Silent refresh from the httpOnly cookie; concurrent callers share one request. */
  function refresh(): Promise<boolean> {
    // Tabs share the cookie jar: a Web Lock keeps two tabs from rotating the same refresh token.
    const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
    refreshing ??= (locks === undefined ? rotate() : locks.request("tessera-refresh", rotate)).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function loadUser(): Promise<User | null> {
    try {
      user.value = await getMe();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) clear();
      else throw error;
    }
    return user.value;
  }

  /** Runs once per page load: restores the session from the refresh cookie, if there is one. */
  function init(): Promise<void> {
    initializing ??= (async () => {
      // The readable CSRF cookie lives exactly as long as the refresh cookie: without it there is no session.
      if (hasSessionCookie() && (await refresh())) await loadUser().catch(() => undefined);
      ready.value = true;
    })();
    return initializing;
  }

  async function logout(): Promise<void> {
    try {
      await apiLogout();
    } catch {
      // Signing out locally must work even when the server cannot be reached.
    } finally {
      clear();
    }
  }

  /** The API client's answer to `reauth_required`: the dialog asks, and its new tokens replace ours. */
  async function reauthenticate(): Promise<boolean> {
    const tokens = await useReauthStore().ask();
    if (tokens === null) return false;
    acceptTokens(tokens);
    return true;
  }

  configureClient({
    getAccessToken: () => accessToken.value,
    refreshAccessToken: refresh,
    reauthenticate,
    enrollmentRequired: () => {
      enrollmentRequired.value = true;
    },
  });

  return {
    accessToken,
    expiresAt,
    user,
    ready,
    challenge,
    pendingSetup,
    notice,
    isAuthenticated,
    isAdmin,
    enrollmentRequired,
    acceptTokens,
    refresh,
    loadUser,
    init,
    logout,
    clear,
    takeNotice,
  };
});
