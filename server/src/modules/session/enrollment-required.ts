import { policyRequiresSecondFactor, storedPolicy } from "../../policy.js";

/**
 * Whether the two-factor policy, as stored now, holds a user with these roles in enrolment: it covers
 * them and they have no second factor (SPEC §2 "Admin and policy"). Read from the session row, which
 * carries the policy, on every request; the stored text is parsed once per distinct value.
 */
export function enrollmentRequired(
  user: { mfa_enabled: number; require_2fa: string | null },
  roles: string[],
): boolean {
  return user.mfa_enabled !== 1 && policyRequiresSecondFactor(storedPolicy(user.require_2fa), roles);
}
