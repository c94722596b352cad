/** Time source injected into every service, so expiries, lockouts and TOTP steps are testable. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; tests use it for deterministic TOTP steps and expiries. */
export interface FixedClock extends Clock {
  set(unixSeconds: number): void;
  advance(seconds: number): void;
}

export function fixedClock(unixSeconds: number): FixedClock {
  let currentMs = unixSeconds * 1000;
  return {
    now: () => currentMs,
    set: (seconds) => {
      currentMs = seconds * 1000;
    },
    advance: (seconds) => {
      currentMs += seconds * 1000;
    },
  };
}
