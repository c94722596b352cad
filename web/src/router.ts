import { createRouter, createWebHistory, type RouterHistory, type RouteRecordRaw, type Router } from "vue-router";
import { useSessionStore } from "./stores/session";

declare module "vue-router" {
  interface RouteMeta {
    /** Page title (also announced to screen readers on navigation). */
    title?: string;
    /** Only for a signed-in user; others go to the login page. */
    requiresAuth?: boolean;
    /** Only for role `admin`. */
    requiresAdmin?: boolean;
    /** Only for a signed-out visitor; a signed-in one goes to the profile. */
    guestOnly?: boolean;
    /** Open to a session the two-factor policy holds in enrolment (every other page sends it to /enroll). */
    duringEnrollment?: boolean;
  }
}

// Views are split into chunks, so the login page does not load the admin screens.
const routes: RouteRecordRaw[] = [
  { path: "/", redirect: "/profile" },
  {
    path: "/login",
    name: "login",
    component: () => import("./views/LoginView.vue"),
    meta: { title: "Sign in", guestOnly: true },
  },
  {
    path: "/login/2fa",
    name: "login-second-factor",
    component: () => import("./views/LoginSecondFactorView.vue"),
    meta: { title: "Two-factor verification", guestOnly: true },
  },
  {
    path: "/register",
    name: "register",
    component: () => import("./views/RegisterView.vue"),
    meta: { title: "Create account", guestOnly: true },
  },
  {
    path: "/forgot-password",
    name: "forgot-password",
    component: () => import("./views/ForgotPasswordView.vue"),
    meta: { title: "Forgot password" },
  },
  {
    path: "/reset-password",
    name: "reset-password",
    component: () => import("./views/ResetPasswordView.vue"),
    meta: { title: "Choose a new password" },
  },
  {
    path: "/verify-email",
    name: "verify-email",
    component: () => import("./views/VerifyEmailView.vue"),
    meta: { title: "Verify email" },
  },
  {
    path: "/magic-link",
    name: "magic-link",
    component: () => import("./views/MagicLinkView.vue"),
    meta: { title: "Email sign-in link" },
  },
  {
    path: "/delete-account",
    name: "delete-account",
    component: () => import("./views/DeleteConfirmView.vue"),
    meta: { title: "Delete account" },
  },
  {
    path: "/profile",
    name: "profile",
    component: () => import("./views/ProfileView.vue"),
    meta: { title: "Your account", requiresAuth: true },
  },
  {
    path: "/2fa/enable",
    name: "enable-second-factor",
    component: () => import("./views/EnableSecondFactorView.vue"),
    meta: { title: "Turn on two-factor", requiresAuth: true, duringEnrollment: true },
  },
  {
    path: "/enroll",
    name: "enroll",
    component: () => import("./views/EnrollView.vue"),
    meta: { title: "Set up two-factor", requiresAuth: true, duringEnrollment: true },
  },
  {
    path: "/2fa/disable",
    name: "disable-second-factor",
    component: () => import("./views/DisableSecondFactorView.vue"),
    meta: { title: "Turn off two-factor", requiresAuth: true },
  },
  {
    path: "/admin",
    name: "admin",
    component: () => import("./views/AdminView.vue"),
    meta: { title: "Administration", requiresAuth: true, requiresAdmin: true },
  },
  {
    path: "/admin/users/:id",
    name: "admin-user",
    component: () => import("./views/admin/AdminUserView.vue"),
    meta: { title: "User · Administration", requiresAuth: true, requiresAdmin: true },
  },
  {
    path: "/admin/policy",
    name: "admin-policy",
    component: () => import("./views/admin/AdminPolicyView.vue"),
    meta: { title: "Two-factor policy · Administration", requiresAuth: true, requiresAdmin: true },
  },
  {
    path: "/admin/audit",
    name: "admin-audit",
    component: () => import("./views/admin/AdminAuditView.vue"),
    meta: { title: "Audit log · Administration", requiresAuth: true, requiresAdmin: true },
  },
  {
    path: "/admin/applications",
    name: "admin-applications",
    component: () => import("./views/AdminApplicationsView.vue"),
    meta: { title: "Applications", requiresAuth: true, requiresAdmin: true },
  },
  {
    path: "/dev-mailbox",
    name: "dev-mail",
    component: () => import("./views/DevMailView.vue"),
    meta: { title: "Dev mailbox" },
  },
  {
    path: "/oidc/interaction/:uid",
    name: "oidc-authorize",
    component: () => import("./views/OidcAuthorizeView.vue"),
    meta: { title: "Sign in to an application" },
  },
  {
    path: "/:pathMatch(.*)*",
    name: "not-found",
    component: () => import("./views/NotFoundView.vue"),
    meta: { title: "Page not found" },
  },
];

/** `history` is the browser's address bar, or a memory history in tests. */
export function createAppRouter(history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({ history, routes, scrollBehavior: () => ({ top: 0 }) });

  router.beforeEach(async (to) => {
    const session = useSessionStore();
    await session.init();
    if (to.meta.requiresAuth === true && !session.isAuthenticated) {
      return { name: "login", query: { redirect: to.fullPath } };
    }
    // SPEC §2 "Admin and policy": a session held in enrolment goes straight into it, whatever it asked for.
    if (session.isAuthenticated && session.enrollmentRequired && to.meta.duringEnrollment !== true)
      return { name: "enroll" };
    if (to.meta.requiresAdmin === true && !session.isAdmin) return { name: "profile" };
    if (to.meta.guestOnly === true && session.isAuthenticated) return { name: "profile" };
    return true;
  });

  router.afterEach((to, _from, failure) => {
    // The title follows the page shown: a navigation that was cancelled (a page that asks before it is left) or
    // redirected elsewhere leaves it as it is.
    if (failure) return;
    document.title = to.meta.title === undefined ? "Tessera" : `${to.meta.title} · Tessera`;
  });

  return router;
}
