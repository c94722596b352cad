import { ref, watch, type Ref } from "vue";
import { loadEstimator, type StrengthEstimate } from "../lib/password-strength";
import { newPasswordProblem } from "../lib/validation";

/** A live strength estimate of `password`, penalising the username and email (`userInputs`). */
export function usePasswordStrength(
  password: Ref<string>,
  userInputs: () => string[] = () => [],
): Ref<StrengthEstimate | null> {
  const estimate = ref<StrengthEstimate | null>(null);
  let version = 0;
  watch([password, userInputs], async ([value, inputs]) => {
    const current = ++version;
    // Below the minimum the hint ("Use at least 8 characters") is the advice; a strength verdict on a password that
    // cannot be used would be a second message competing with it.
    if (newPasswordProblem(value) !== null) {
      estimate.value = null;
      return;
    }
    const estimator = await loadEstimator();
    // Typing is faster than the first load: keep only the newest answer.
    if (current === version)
      estimate.value = estimator(
        value,
        inputs.filter((input) => input !== ""),
      );
  });
  return estimate;
}
