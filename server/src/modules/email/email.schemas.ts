import { Type } from "@sinclair/typebox";

// Tokens are 43 characters; anything up to 512 is read and answered 400 invalid_token, not 422.
export const LinkToken = Type.String({ minLength: 1, maxLength: 512, description: "The token from the emailed link" });
export const Email = Type.String({ maxLength: 254, format: "email" });
export const TokenBody = Type.Object({ token: LinkToken });
export const EmailBody = Type.Object({ email: Email });
export const Accepted = { 202: Type.Null({ description: "Accepted; any mail is sent in the background" }) };
