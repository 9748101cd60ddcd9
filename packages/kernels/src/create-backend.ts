import type { Backend } from "./backend.js";
import { createCpuBackend, createReferenceBackend } from "./cpu-backend.js";
import { KernelError } from "./errors.js";

/** What {@link createBackend} may pick. */
export type BackendPreference = "auto" | "cpu" | "reference";

/** The backend chosen and, in words, why: report it to the user. */
export interface BackendChoice {
  readonly backend: Backend;
  readonly reason: string;
}

/** The preferences {@link createBackend} accepts. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ["auto", "cpu", "reference"];

/**
 * Picks a backend: `cpu` (float32), `reference` (float64 plain loops, slow, exact), or
 * `auto` (the best available; in this release the float32 CPU backend). The choice is
 * returned with a reason, never made silently.
 */
export function createBackend(options: { prefer?: BackendPreference } = {}): BackendChoice {
  const prefer = options.prefer ?? "auto";
  switch (prefer) {
    case "auto":
      return { backend: createCpuBackend(), reason: "auto: no GPU backend is available in this build; using the float32 CPU backend" };
    case "cpu":
      return { backend: createCpuBackend(), reason: "cpu: requested" };
    case "reference":
      return { backend: createReferenceBackend(), reason: "reference: requested (float64, slow)" };
    default:
      throw new KernelError(
        "HTS_INVALID_ARGUMENT",
        `createBackend: prefer must be one of ${BACKEND_PREFERENCES.join(", ")}, got ${JSON.stringify(prefer)}`,
        { parameter: "prefer", value: prefer, expected: BACKEND_PREFERENCES.join(" | ") },
      );
  }
}
