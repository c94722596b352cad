import { Type } from "@sinclair/typebox";

// Tokens are 43 characters; anything up to 512 is read and answered 400 invalid_token, not 422.
export const LinkToken = Type.String({ minLength: 1, maxLength: 512, description: "The token from the emailed link" });
export const Email = Type.String({ maxLength: 254, format: "email" });
export const TokenBody = Type.Object({ token: LinkToken });
export const EmailBody = Type.Object({ email: Email });
/** Every 202 answers this body (SPEC §2: never `null`): the request was taken; any mail goes out in the background. */
export const acceptedBody = { status: "accepted" } as const;
export const Accepted = {
  202: Type.Object(
    { status: Type.Literal("accepted") },
    { description: "Accepted; any mail is sent in the background" },
  ),
};
