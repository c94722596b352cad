import { AppError } from "../../../errors.js";
import type { AssertionResponse } from "./passkey.schemas.js";

/** Which ceremony a WebAuthn challenge was made for; it answers that one only. */
export type ChallengeBinding =
  | { purpose: "second_factor"; userId: string; loginChallengeId: string }
  | { purpose: "reauth"; userId: string }
  | { purpose: "passwordless" };

/** An assertion and the ceremony it answers (`second_factor`: bound to the login challenge it was asked for). */
export interface PasskeyProof {
  response: AssertionResponse;
  binding: ChallengeBinding;
}

/** A refusal because the signature counter went backwards: a cloned authenticator. The owner is told. */
export class PasskeyCloneError extends AppError {
  override name = "PasskeyCloneError";
  constructor() {
    super("invalid_passkey", "This passkey was refused: its signature counter went backwards.");
  }
}
