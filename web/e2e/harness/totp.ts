import { Secret, TOTP } from "otpauth";

const periodInSeconds = 30;

/**
 * Codes for one secret that never repeat a time step: the server refuses a code whose step
 * was already used. RFC 6238 with ±1 step of drift (SPEC §2) lets us take the next step
 * at once instead of waiting up to 30 s, so a flow needs to wait only from the third code on.
 */
export class CodeSource {
  private readonly totp: TOTP;
  private lastStep = -1;

  constructor(secret: string) {
    this.totp = new TOTP({
      secret: Secret.fromBase32(secret.replace(/\s+/g, "")),
      algorithm: "SHA1",
      digits: 6,
      period: periodInSeconds,
    });
  }

  /** A valid code for a step not used before (waits when the next free step is too far ahead). */
  async next(): Promise<string> {
    const current = Math.floor(Date.now() / 1000 / periodInSeconds);
    const step = Math.max(current, this.lastStep + 1);
    if (step > current + 1) {
      // Start a little into the step, so the server's clock agrees.
      const waitMs = (step - 1) * periodInSeconds * 1000 - Date.now() + 1_500;
      await new Promise((resolve) => setTimeout(resolve, Math.max(waitMs, 0)));
    }
    this.lastStep = step;
    return this.totp.generate({ timestamp: step * periodInSeconds * 1000 + 1_000 });
  }

  /** A well-formed code that is wrong now (no step in the ±1 window produces it). */
  wrong(): string {
    const now = Date.now();
    const valid = new Set(
      [-1, 0, 1].map((offset) => this.totp.generate({ timestamp: now + offset * periodInSeconds * 1000 })),
    );
    for (let candidate = 0; ; candidate += 111_111) {
      const code = String(candidate % 1_000_000).padStart(6, "0");
      if (!valid.has(code)) return code;
    }
  }
}
