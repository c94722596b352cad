import { ref, type Ref } from "vue";
import { ApiError } from "../api/errors";

export interface AsyncAction {
  /** True while the action runs; forms disable their submit button. */
  pending: Ref<boolean>;
  /** The form-level message, shown in a `role="alert"` region. */
  error: Ref<string | null>;
  /** The error code of the last failure, for views that react to a specific one. */
  errorCode: Ref<string | null>;
  /** Per-field reasons from `error.details`, keyed by field name. */
  fieldErrors: Ref<Record<string, string>>;
  /** Runs `task`, capturing an ApiError into the refs above; resolves undefined on failure. */
  run<T>(task: () => Promise<T>): Promise<T | undefined>;
  reset(): void;
}

/** Pending state and error mapping for one form or button; at most one run at a time. */
export function useAsyncAction(): AsyncAction {
  const pending = ref(false);
  const error = ref<string | null>(null);
  const errorCode = ref<string | null>(null);
  const fieldErrors = ref<Record<string, string>>({});

  function reset(): void {
    error.value = null;
    errorCode.value = null;
    fieldErrors.value = {};
  }

  async function run<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (pending.value) return undefined;
    pending.value = true;
    reset();
    try {
      return await task();
    } catch (caught) {
      if (caught instanceof ApiError) {
        error.value = caught.message;
        errorCode.value = caught.code;
        fieldErrors.value = caught.fieldErrors();
      } else {
        error.value = "Something went wrong. Please try again.";
        errorCode.value = "unexpected";
        console.warn(caught);
      }
      return undefined;
    } finally {
      pending.value = false;
    }
  }

  return { pending, error, errorCode, fieldErrors, run, reset };
}
