import { onBeforeUnmount, onMounted } from "vue";
import { onBeforeRouteLeave } from "vue-router";

/**
 * Recovery codes are shown once: while `unsaved()` holds (codes on screen, "I saved them" not ticked), closing the
 * tab asks the browser's own question and leaving the route asks ours.
 */
export function useUnsavedCodesGuard(unsaved: () => boolean): void {
  function onBeforeUnload(event: BeforeUnloadEvent): void {
    if (unsaved()) event.preventDefault();
  }
  onMounted(() => window.addEventListener("beforeunload", onBeforeUnload));
  onBeforeUnmount(() => window.removeEventListener("beforeunload", onBeforeUnload));
  onBeforeRouteLeave(
    () => !unsaved() || window.confirm("You have not confirmed that you saved your recovery codes. Leave anyway?"),
  );
}
