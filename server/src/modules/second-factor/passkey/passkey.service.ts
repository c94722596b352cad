import type * as SimpleWebAuthn from "@simplewebauthn/server";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { Kysely } from "kysely";
import type { Clock } from "../../../clock.js";
import { hashSecret } from "../../../crypto/hash.js";
import { randomId } from "../../../crypto/random.js";
import type { Database } from "../../../db/database.js";
import type { RequestMeta } from "../../../request-meta.js";
import { AppError } from "../../../errors.js";
import type { AuditService } from "../../audit/audit.service.js";
import { findUserById } from "../../user/user.repository.js";
import type { SecondFactor } from "../second-factor.js";
import { verifyAssertion } from "./assertion.js";
import { challengeLifetimeInSeconds, createChallengeStore } from "./challenge-store.js";
import * as repo from "./passkey.repository.js";
import type { AssertionResponse, AttestationResponse } from "./passkey.schemas.js";
import { PasskeyCloneError, type ChallengeBinding, type PasskeyProof } from "./passkey.types.js";
import type { RelyingParty } from "./relying-party.js";

/** WebAuthn (SPEC "Passkeys") as a second factor; `enroll` answers creation options, `register` stores the passkey. */
export interface PasskeyFactor extends SecondFactor<PasskeyProof, PublicKeyCredentialCreationOptionsJSON> {
  /** Verifies an attestation against the user's registration challenge; stores the passkey (caller's transaction). */
  register(
    userId: string,
    response: AttestationResponse,
    name: string | undefined,
    executor: Kysely<Database>,
  ): Promise<repo.PasskeyRow>;
  /** `enroll` outside a transaction: creation options, the challenge stored for this user. */
  registrationOptions(userId: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Request options for one ceremony, its challenge stored server-side. */
  requestOptions(binding: ChallengeBinding): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** The owner of the credential an assertion names (before anything is verified); null when none is stored. */
  ownerOf(response: AssertionResponse, executor: Kysely<Database>): Promise<string | null>;
  passkeys(userId: string): Promise<repo.PasskeyRow[]>;
  rename(userId: string, id: string, name: string, meta: RequestMeta): Promise<repo.PasskeyRow>;
  /** Removes one passkey of the user in the caller's transaction; not_found when there is none with this id. */
  removeOne(userId: string, id: string, executor: Kysely<Database>): Promise<repo.PasskeyRow>;
}

/** The WebAuthn library loads at the first ceremony, not at start (idle memory, SPEC §5). */
async function webauthn(): Promise<typeof SimpleWebAuthn> {
  return import("@simplewebauthn/server");
}

/** Enough for every device a person owns; a bound on what one account can store. */
export const maxPasskeysPerUser = 20;

const credentialHash = (credentialId: string): string => hashSecret(`passkey:${credentialId}`);

export function createPasskeyFactor(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  rp: RelyingParty;
}): PasskeyFactor {
  const { db, clock, audit, rp } = deps;

  const challenges = createChallengeStore(clock);
  const storeChallenge = challenges.store;
  const takeChallenge = challenges.take;

  const transportsOf = (row: repo.PasskeyRow): string[] => (row.transports === "" ? [] : row.transports.split(","));
  const descriptor = (row: repo.PasskeyRow) => ({ id: row.credential_id, transports: transportsOf(row) as never[] });

  const factor: PasskeyFactor = {
    method: "hwk",

    async enroll(userId, executor) {
      const user = await findUserById(executor, userId);
      if (user === undefined) throw new AppError("unauthorized");
      const existing = await repo.listPasskeys(executor, userId);
      const options = await (
        await webauthn()
      ).generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName: user.username,
        userDisplayName: user.username,
        userID: Buffer.from(userId, "utf8"),
        timeout: challengeLifetimeInSeconds * 1000,
        attestationType: "none",
        excludeCredentials: existing.map(descriptor),
        // Discoverable, so the passkey can also sign in without a username (SPEC "Passwordless").
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "preferred" },
      });
      await storeChallenge(options.challenge, { purpose: "register", userId }, executor);
      return options;
    },

    registrationOptions(userId) {
      return factor.enroll(userId, db);
    },

    async register(userId, response, name, executor) {
      const challenge = await takeChallenge(
        response.response.clientDataJSON,
        { purpose: "register", userId },
        executor,
      );
      if (challenge === null)
        throw new AppError("invalid_passkey", "The passkey challenge is unknown, used or expired. Start again.");
      let verified;
      try {
        verified = await (
          await webauthn()
        ).verifyRegistrationResponse({
          response: response as never,
          expectedChallenge: challenge,
          expectedOrigin: rp.origins,
          expectedRPID: rp.id,
          requireUserVerification: false,
        });
      } catch {
        throw new AppError("invalid_passkey", "The passkey could not be verified.");
      }
      if (!verified.verified) throw new AppError("invalid_passkey", "The passkey could not be verified.");
      const info = verified.registrationInfo;
      const hash = credentialHash(info.credential.id);
      if ((await repo.findByCredentialHash(executor, hash)) !== undefined)
        throw new AppError("invalid_passkey", "This passkey is already registered.");
      const existing = await repo.listPasskeys(executor, userId);
      if (existing.length >= maxPasskeysPerUser)
        throw new AppError("validation_failed", `An account holds at most ${maxPasskeysPerUser} passkeys.`);
      const row: repo.PasskeyRow = {
        id: randomId(),
        user_id: userId,
        credential_hash: hash,
        credential_id: info.credential.id,
        public_key: Buffer.from(info.credential.publicKey).toString("base64url"),
        counter: info.credential.counter,
        transports: (response.response.transports ?? []).join(",").slice(0, 255),
        aaguid: info.aaguid,
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp ? 1 : 0,
        name: name?.trim() ?? `Passkey ${existing.length + 1}`,
        created_at: clock.now(),
        last_used_at: null,
      };
      await repo.insertPasskey(executor, row);
      return row;
    },

    async requestOptions(binding) {
      const allow =
        binding.purpose === "passwordless" ? [] : (await repo.listPasskeys(db, binding.userId)).map(descriptor);
      if (binding.purpose !== "passwordless" && allow.length === 0)
        throw new AppError("not_found", "This account has no passkey.");
      const options = await (
        await webauthn()
      ).generateAuthenticationOptions({
        rpID: rp.id,
        timeout: challengeLifetimeInSeconds * 1000,
        allowCredentials: allow,
        // Passwordless: the passkey is both factors, so it must verify the person (PIN, biometrics).
        userVerification: binding.purpose === "passwordless" ? "required" : "preferred",
      });
      await storeChallenge(options.challenge, binding, db);
      return options;
    },

    async ownerOf(response, executor) {
      return (await repo.findByCredentialHash(executor, credentialHash(response.id)))?.user_id ?? null;
    },

    async check(userId, proof, meta, executor) {
      const refuse = async (reason: string, message: string, error?: AppError): Promise<never> => {
        const detail = { method: "webauthn", purpose: proof.binding.purpose, reason };
        await audit.record({ type: "mfa_failed", userId, meta, detail }, executor);
        throw error ?? new AppError("invalid_passkey", message);
      };
      const { response, binding } = proof;
      const challenge = await takeChallenge(response.response.clientDataJSON, binding, executor);
      if (challenge === null)
        return refuse("challenge", "The passkey challenge is unknown, used or expired. Start again.");
      const passkey = await repo.findByCredentialHash(executor, credentialHash(response.id));
      if (passkey === undefined || passkey.user_id !== userId)
        return refuse("unknown_credential", "This passkey is not registered to this account.");
      const userHandle = response.response.userHandle;
      if (userHandle !== undefined && userHandle !== Buffer.from(userId, "utf8").toString("base64url"))
        return refuse("user_handle", "This passkey is not registered to this account.");
      let verified;
      try {
        verified = await verifyAssertion(response, {
          challenge,
          origins: rp.origins,
          rpId: rp.id,
          requireUserVerification: binding.purpose === "passwordless",
          publicKey: passkey.public_key,
        });
      } catch {
        return refuse("invalid", "The passkey could not be verified.");
      }
      // The counter is checked here, after the signature, so a forged counter tells nothing.
      const { counter: newCounter, backedUp: credentialBackedUp } = verified;
      const now = clock.now();
      const backwards = (newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter;
      if (
        backwards ||
        !(await repo.recordUse(executor, passkey.id, { counter: newCounter, now, backedUp: credentialBackedUp }))
      ) {
        const detail = { passkey_id: passkey.id, stored_counter: passkey.counter, counter: newCounter };
        await audit.record({ type: "passkey_clone_suspected", userId, meta, detail }, executor);
        return refuse("counter", "", new PasskeyCloneError());
      }
    },

    remove: (userId, executor) => repo.deleteUserPasskeys(executor, userId),

    async list(userId, executor) {
      const rows = await repo.listPasskeys(executor, userId);
      return rows.map((row) => ({
        id: row.id,
        createdAt: row.created_at,
        name: row.name,
        lastUsedAt: row.last_used_at,
      }));
    },

    passkeys: (userId) => repo.listPasskeys(db, userId),

    async rename(userId, id, name, meta) {
      if (!(await repo.renamePasskey(db, userId, id, name.trim()))) throw new AppError("not_found", "No such passkey.");
      await audit.record({ type: "passkey_renamed", userId, meta, detail: { passkey_id: id } });
      const row = (await repo.listPasskeys(db, userId)).find((p) => p.id === id);
      if (row === undefined) throw new AppError("not_found", "No such passkey.");
      return row;
    },

    async removeOne(userId, id, executor) {
      const row = await repo.deletePasskey(executor, userId, id);
      if (row === undefined) throw new AppError("not_found", "No such passkey.");
      return row;
    },
  };
  return factor;
}
