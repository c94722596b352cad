import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory } from "vue-router";
import { createAppRouter } from "./router";

beforeEach(() => {
  setActivePinia(createPinia());
  // No session cookie: a signed-out visitor.
  vi.stubGlobal("document", { title: "", cookie: "" });
});
afterEach(() => vi.unstubAllGlobals());

describe("page title", () => {
  it("names the page shown", async () => {
    const router = createAppRouter(createMemoryHistory());
    await router.push("/register");
    expect(document.title).toBe("Create account · Tessera");
    await router.push("/no/such/page");
    expect(document.title).toBe("Page not found · Tessera");
  });

  it("stays when a navigation is cancelled, as when leaving unsaved recovery codes is refused", async () => {
    const router = createAppRouter(createMemoryHistory());
    await router.push("/register");
    // The recovery-codes page cancels a navigation the same way: a leave guard answering false.
    router.beforeEach((to) => to.name !== "forgot-password");
    await router.push("/forgot-password");
    expect(router.currentRoute.value.name).toBe("register");
    expect(document.title).toBe("Create account · Tessera");
  });

  it("is the target's when a guard redirects", async () => {
    const router = createAppRouter(createMemoryHistory());
    await router.push("/profile");
    expect(router.currentRoute.value.name).toBe("login");
    expect(document.title).toBe("Sign in · Tessera");
  });
});
