import { nextTick, ref, type Ref } from "vue";
import { ApiError, fieldRefusal, type CodeKind } from "../api/errors";

/** The names a form gives its password and code fields (the API's field names). */
export interface RefusalFields {
  password?: string;
  code?: string;
}

export interface AsyncActionOptions {
  /**
   * On a form that re-asks the signed-in person, its password and code fields: a wrong password or code is shown
   * on that field in its words (api/errors.ts `fieldRefusal`), not as the form's message.
   */
  fields?: RefusalFields | (() => RefusalFields);
  /** What the code field holds when a refusal arrives (default "totp"). */
  codeKind?: () => CodeKind;
  /** The form: after a failure, focus moves to its first invalid field, which reads out its error. */
  form?: () => HTMLElement | null | undefined;
}

export interface AsyncAction {
  /** True while the action runs; forms disable their submit button. */
  pending: Ref<boolean>;
  /** The form-level message, shown in a `role="alert"` region. */
  error: Ref<string | null>;
  /** The error code of the last failure, for views that react to a specific one. */
  errorCode: Ref<string | null>;
  /** Per-field reasons (the form's own checks, `error.details`, refusals placed on a field), keyed by field name. */
  fieldErrors: Ref<Record<string, string>>;
  /** Runs `task`, capturing an ApiError into the refs above; resolves undefined on failure. */
  run<T>(task: () => Promise<T>): Promise<T | undefined>;
  /** Shows the form's own checks as field errors without sending anything; true when every field is fine. */
  check(problems: Record<string, string | null>): boolean;
  reset(): void;
}

/** Pending state and error mapping for one form or button; at most one run at a time. */
export function useAsyncAction(options: AsyncActionOptions = {}): AsyncAction {
  const pending = ref(false);
  const error = ref<string | null>(null);
  const errorCode = ref<string | null>(null);
  const fieldErrors = ref<Record<string, string>>({});

  function reset(): void {
    error.value = null;
    errorCode.value = null;
    fieldErrors.value = {};
  }

  async function focusFirstInvalid(): Promise<void> {
    await nextTick();
    options.form?.()?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }

  function show(caught: ApiError): void {
    errorCode.value = caught.code;
    fieldErrors.value = caught.fieldErrors();
    const fields = typeof options.fields === "function" ? options.fields() : options.fields;
    const refusal = fields === undefined ? null : fieldRefusal(caught.code, options.codeKind?.());
    const name = refusal === null ? undefined : fields?.[refusal.field];
    if (refusal !== null && name !== undefined) fieldErrors.value = { ...fieldErrors.value, [name]: refusal.message };
    else error.value = caught.message;
  }

  function check(problems: Record<string, string | null>): boolean {
    if (pending.value) return false;
    reset();
    const found = Object.entries(problems).filter((entry): entry is [string, string] => entry[1] !== null);
    if (found.length === 0) return true;
    errorCode.value = "validation_failed";
    fieldErrors.value = Object.fromEntries(found);
    void focusFirstInvalid();
    return false;
  }

  async function run<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (pending.value) return undefined;
    pending.value = true;
    reset();
    try {
      return await task();
    } catch (caught) {
      if (caught instanceof ApiError) {
        show(caught);
      } else {
        error.value = "Something went wrong. Please try again.";
        errorCode.value = "unexpected";
        console.warn(caught);
      }
      return undefined;
    } finally {
      pending.value = false;
      if (Object.keys(fieldErrors.value).length > 0) void focusFirstInvalid();
    }
  }

  return { pending, error, errorCode, fieldErrors, run, check, reset };
}
