/** Error codes raised by `@hts/ep`. */
export type EpErrorCode =
  | "HTS_INVALID_ARGUMENT"
  | "HTS_SHAPE_MISMATCH"
  | "HTS_NON_FINITE_STATE"
  | "HTS_NON_FINITE_PARAMETER"
  | "HTS_CHECKPOINT_FORMAT"
  | "HTS_UNSOUND_COMBINATION";

/** Where a non-finite value appeared: the phase, the step, the layer and the neuron. */
export interface NonFiniteLocation {
  /** `free`, `nudged`, `nudged-negative` (symmetric third phase) or `update`. */
  readonly phase: string;
  /** Relaxation step (1-based) within the phase, or the minibatch number for `update`. */
  readonly step: number;
  /** Layer l (1..L). */
  readonly layer: number;
  /** Neuron index within the layer (for a weight: the receiving neuron of layer l). */
  readonly neuron: number;
  /** Example within the minibatch (states), or the sending neuron of layer l - 1 (weights). */
  readonly index: number;
  readonly value: number;
}

/** The one error class of `@hts/ep`; `code` is stable, the message says what and where. */
export class EpError extends Error {
  override readonly name = "EpError";
  readonly code: EpErrorCode;
  readonly parameter: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  readonly location: NonFiniteLocation | undefined;
  constructor(
    code: EpErrorCode,
    message: string,
    details: { parameter?: string; value?: unknown; expected?: string; location?: NonFiniteLocation } = {},
  ) {
    super(message);
    this.code = code;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
    this.location = details.location;
  }
}

/** A value as an error message shows it: JSON, but NaN, Infinity and undefined by name (JSON would print null). */
export function shown(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value) && value.some((v) => typeof v === "number" && !Number.isFinite(v))) return `[${value.map(shown).join(", ")}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Throws HTS_INVALID_ARGUMENT naming the function, parameter, value and expectation. */
export function invalid(where: string, parameter: string, value: unknown, expected: string): never {
  throw new EpError("HTS_INVALID_ARGUMENT", `${where}: ${parameter} must be ${expected}, got ${shown(value)}`, {
    parameter,
    value,
    expected,
  });
}

/** What a value is, in a few words, for an error message about a missing component. */
function kindOf(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "object") return `an object with keys ${Object.keys(value).slice(0, 6).join(", ") || "(none)"}`;
  return value;
}

/**
 * @internal Refuses an options object that is not one, or a component missing or without
 * the members it needs (`members` are method or field names), with HTS_INVALID_ARGUMENT.
 */
export function requireComponent(where: string, parameter: string, value: unknown, members: readonly string[], expected: string): void {
  const ok = value !== null && typeof value === "object" && members.every((m) => (value as Record<string, unknown>)[m] !== undefined);
  if (!ok) invalid(where, parameter, kindOf(value), expected);
}
